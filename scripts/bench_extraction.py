"""Extraction timings behind the figures in eval/reports/hostile-ingest.md.

    python scripts/bench_extraction.py dehyphenation             # PDF extraction time at 50/100/200/1,000 pages
    python scripts/bench_extraction.py throughput ingest/        # in-process extraction vs the isolated pool

`dehyphenation` builds PDFs whose every page has 40 lines, a quarter of them hyphenated across the line break,
and times `extract` (pypdf reading plus the repairs) and the repairs alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from nzc_knowledge.ingest.extract import extract

_WORDS = ("infra-", "structure", "finan-", "cing", "retro-", "fitting", "self-", "consumption")


def hyphenated_pdf(path: Path, pages: int, lines: int = 40) -> None:
    """`pages` pages of `lines` lines each; every fourth line ends in a word broken by a hyphen."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))
    for number in range(pages):
        rows = []
        for line in range(lines):
            pair = (number + line // 4) % 4 * 2  # the same broken word on a line and the next one
            ending = _WORDS[pair] if line % 4 == 0 else "and the district heating network grew."
            start = _WORDS[pair + 1] if line % 4 == 1 else "The city"
            rows.append(f"({start} council {number} report line {line} {ending}) Tj T*")
        stream = DecodedStreamObject()
        stream.set_data(("BT /F1 10 Tf 12 TL 72 750 Td " + " ".join(rows) + " ET").encode())
        page = writer.add_blank_page(width=612, height=792)
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    writer.write(path)


def dehyphenation(page_counts: list[int]) -> None:
    from pypdf import PdfReader

    from nzc_knowledge.ingest.extract import pdf

    with tempfile.TemporaryDirectory() as folder:
        for pages in page_counts:
            path = Path(folder) / f"{pages}.pdf"
            hyphenated_pdf(path, pages)
            started = time.perf_counter()
            document = extract(path)
            total = time.perf_counter() - started
            texts = [page.extract_text() for page in PdfReader(path).pages]
            started = time.perf_counter()
            if hasattr(pdf, "hyphenated_compounds"):
                compounds = pdf.hyphenated_compounds(texts)
                for text in texts:
                    pdf.join_hyphenated(text, compounds)
            else:  # the code before the fix, for comparison
                for text in texts:
                    pdf._join_hyphenated(text, texts)
            repairs = time.perf_counter() - started
            print(f"{pages:>5} pages: extract {total:6.2f} s, of which hyphen repair {repairs:6.3f} s "
                  f"({len(document.text):,} characters)")


def throughput(source_dir: Path, repeats: int) -> None:
    from nzc_knowledge.ingest.extract.isolation import ExtractionLimits, IsolatedExtractor

    paths = sorted(path for path in source_dir.rglob("*") if path.is_file() and path.suffix.lower() in
                   (".pdf", ".html", ".htm", ".md", ".txt") and "registry" not in path.parts)
    for attempt in range(repeats):
        started = time.perf_counter()
        for path in paths:
            extract(path)
        in_process = time.perf_counter() - started
        started = time.perf_counter()
        with IsolatedExtractor(ExtractionLimits()) as extractor:
            jobs = [extractor.submit(path) for path in paths]
            for job in jobs:
                extractor.result(job)
        isolated = time.perf_counter() - started
        print(f"run {attempt + 1}: {len(paths)} files: in-process {in_process:.2f} s, "
              f"isolated pool (incl. start) {isolated:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    pages = commands.add_parser("dehyphenation")
    pages.add_argument("--pages", type=int, nargs="+", default=[50, 100, 200, 1000])
    speed = commands.add_parser("throughput")
    speed.add_argument("source_dir", type=Path)
    speed.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    if arguments.command == "dehyphenation":
        dehyphenation(arguments.pages)
    else:
        throughput(arguments.source_dir, arguments.repeats)


if __name__ == "__main__":
    main()
