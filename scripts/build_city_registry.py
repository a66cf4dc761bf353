"""Build nzc_knowledge/recommend/data/cities.csv from the JRC Covenant of Mayors signatory list.

Usage:
    .venv/bin/python scripts/build_city_registry.py \
        [--source /work/shared/data/covenant-of-mayors/signatories_2024.csv] [--out nzc_knowledge/recommend/data/cities.csv]

Copies only the columns the peer-city engine needs (id, name, country, population, coordinates,
group structure, Covenant commitments, status); names are kept as the Covenant writes them, and
clean display names and aliases are derived when the engine loads the registry. Reruns give the
same file byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nzc_knowledge.recommend.registry import parse_signatories, write_registry  # noqa: E402

DEFAULT_SOURCE = Path("/work/shared/data/covenant-of-mayors/signatories_2024.csv")
DEFAULT_OUT = ROOT / "nzc_knowledge" / "recommend" / "data" / "cities.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the JRC signatories CSV")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write cities.csv")
    args = parser.parse_args(argv)
    with args.source.open(encoding="utf-8", newline="") as handle:
        entries = parse_signatories(csv.DictReader(handle))
    entries.sort(key=lambda entry: (entry.country, entry.name.casefold(), entry.id))
    count = write_registry(entries, args.out)
    kinds = Counter(entry.kind for entry in entries)
    print(
        f"wrote {count} signatories ({kinds['city']} cities, {kinds['group']} groups, "
        f"{len({entry.country for entry in entries})} countries) to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
