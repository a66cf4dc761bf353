"""Passage text and resource bodies in an embedded SQLite file, read on demand.

Why: at a million passages their texts alone are about a gigabyte; a search shows ten snippets. The serving
process keeps only the columns it filters and rolls up by (numpy arrays) and asks this store for the few texts a
page shows. SQLite is in the standard library, reads one row by primary key in microseconds and is safe to read
from many threads (one read-only connection per thread).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from nzc_knowledge.models import Chunk

STORE_FILE = "texts.sqlite"
READ_BATCH = 900  # rows per `IN (...)` query (SQLite's default limit on bound parameters is 999)
_PASSAGE_FIELDS = ("id", "ordinal", "text", "start", "end", "page", "heading", "token_count", "tags")


def write_store(path: Path, chunks: Iterable[Chunk], resource_texts: Iterable[str]) -> None:
    """Write passages (keyed by row, in order) and resource bodies (keyed by resource row) to a new SQLite file."""
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")  # the snapshot folder is fsynced as a whole before it is published
        connection.execute(
            'CREATE TABLE passages (row INTEGER PRIMARY KEY, id TEXT, ordinal INTEGER, text TEXT, start INTEGER, '
            '"end" INTEGER, page INTEGER, heading TEXT, token_count INTEGER, tags TEXT)'
        )
        connection.execute("CREATE TABLE resources (row INTEGER PRIMARY KEY, text TEXT)")
        connection.executemany(
            "INSERT INTO passages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((row, chunk.id, chunk.ordinal, chunk.text, chunk.start, chunk.end, chunk.page, chunk.heading,
              chunk.token_count, json.dumps(chunk.tags, ensure_ascii=False) if chunk.tags else None)
             for row, chunk in enumerate(chunks)),
        )
        connection.executemany("INSERT INTO resources VALUES (?, ?)", enumerate(resource_texts))
        connection.commit()
    finally:
        connection.close()


class TextStore:
    """Read-only access to a snapshot's texts; one SQLite connection per thread (and per process after a fork)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            # immutable=1: the file never changes once published, so SQLite skips locking and change checks.
            connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                         check_same_thread=False)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def passage_rows(self, rows: Sequence[int], fields: Sequence[str] = _PASSAGE_FIELDS) -> list[tuple[Any, ...]]:
        """The named fields of these passage rows, in the order asked."""
        columns = ", ".join(f'"{name}"' for name in fields)
        found: dict[int, tuple[Any, ...]] = {}
        wanted = [int(row) for row in rows]
        unique = list(dict.fromkeys(wanted))
        for start in range(0, len(unique), READ_BATCH):
            batch = unique[start : start + READ_BATCH]
            marks = ",".join("?" * len(batch))
            for row, *values in self._connection().execute(f"SELECT row, {columns} FROM passages WHERE row IN ({marks})", batch):
                found[row] = tuple(values)
        missing = [row for row in wanted if row not in found]
        if missing:
            raise IndexError(f"no passage row {missing[0]} in this snapshot")
        return [found[row] for row in wanted]

    def passage_texts(self, rows: Sequence[int]) -> list[str]:
        return [values[0] for values in self.passage_rows(rows, ("text",))]

    def resource_text(self, row: int) -> str:
        found = self._connection().execute("SELECT text FROM resources WHERE row = ?", (int(row),)).fetchone()
        return found[0] if found else ""

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class SegmentedTexts:
    """The texts of a snapshot made of segments: global passage rows and snapshot resource rows, each read from
    the text store of the segment that holds it."""

    def __init__(self, stores: Sequence[TextStore], rows, resource_location: np.ndarray) -> None:
        self.stores = list(stores)
        self.rows = rows  # a SegmentRows
        self.resource_location = resource_location  # per snapshot resource row: (segment, local resource row)

    def passage_rows(self, rows: Sequence[int], fields: Sequence[str] = _PASSAGE_FIELDS) -> list[tuple[Any, ...]]:
        """The named fields of these passage rows, in the order asked."""
        found: list[tuple[Any, ...] | None] = [None] * len(rows)
        for segment, positions, local in self.rows.split(np.asarray(rows, dtype=np.int64)):
            for position, values in zip(positions.tolist(), self.stores[segment].passage_rows(local.tolist(), fields), strict=True):
                found[position] = values
        return found  # type: ignore[return-value]

    def passage_texts(self, rows: Sequence[int]) -> list[str]:
        return [values[0] for values in self.passage_rows(rows, ("text",))]

    def resource_text(self, row: int) -> str:
        segment, local = self.resource_location[int(row)]
        return self.stores[int(segment)].resource_text(int(local))

    def close(self) -> None:
        for store in self.stores:
            store.close()


class LazyChunks(Sequence[Chunk]):
    """The snapshot's passages as a sequence; each `Chunk` is read from the store when asked for, never kept.

    Filtering and roll-up fields come from the columns in memory; text, heading, tags from SQLite.
    """

    def __init__(self, store: TextStore | SegmentedTexts, resource_ids: Sequence[str], chunk_resource: np.ndarray,
                 language_codes: np.ndarray, languages: Sequence[str | None]) -> None:
        self.store = store
        self._resource_ids = resource_ids
        self._chunk_resource = chunk_resource
        self._language_codes = language_codes
        self._languages = languages

    def __len__(self) -> int:
        return len(self._chunk_resource)

    @overload
    def __getitem__(self, row: int) -> Chunk: ...

    @overload
    def __getitem__(self, row: slice) -> list[Chunk]: ...

    def __getitem__(self, row: int | slice) -> Chunk | list[Chunk]:
        if isinstance(row, slice):
            return self.many(range(len(self))[row])
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range")
        return self.many([row])[0]

    def many(self, rows: Sequence[int]) -> list[Chunk]:
        """These passages, in the order asked (one query per ~900 rows)."""
        return [self._chunk(int(row), values) for row, values in zip(rows, self.store.passage_rows(rows), strict=True)]

    def __iter__(self) -> Iterator[Chunk]:
        for start in range(0, len(self), READ_BATCH):
            yield from self.many(range(start, min(start + READ_BATCH, len(self))))

    def _chunk(self, row: int, values: tuple[Any, ...]) -> Chunk:
        chunk_id, ordinal, text, start, end, page, heading, token_count, tags = values
        return Chunk(id=chunk_id, resource_id=self._resource_ids[int(self._chunk_resource[row])], ordinal=ordinal,
                     text=text, start=start, end=end, page=page, heading=heading, token_count=token_count,
                     language=self._languages[int(self._language_codes[row])], tags=json.loads(tags) if tags else {})
