"""The one reader of line-numbered JSON Lines files (eval sets, labelled passages): errors name the file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nzc_knowledge.errors import FormatError


def read_jsonl(path: Path | str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; a line that is not a JSON object is a `FormatError`."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise FormatError(path, number, f"not valid JSON ({error.msg} at column {error.colno})") from None
            if not isinstance(row, dict):
                raise FormatError(path, number, f"expected a JSON object, got {type(row).__name__}")
            yield number, row
