"""Write a folder of hostile files that `nzc ingest` must survive: each is ingested or skipped with a reason.

    python tests/hostile_corpus.py /tmp/hostile          # the full corpus (about 1 MB on disk but 50 MB text)
    python tests/hostile_corpus.py /tmp/hostile --small  # the same kinds, small enough for a fast test (40 pages, 5 MB)

`EXPECTED` says what ingest must do with each file; `tests/integration/test_hostile_corpus.py` checks it.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import zipfile
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

OUTSIDE_NAME = "outside-secret.md"  # written beside the folder, not in it: the symlink points at it
CONTROL_NAME = "bell\x07and\x1b[31mred.md"
SECRET_WORD = "zanzibarquokka"  # appears only in the outside file: it must never reach the index

# file -> ("ingested", None) or ("skipped", a fragment of the reason)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "whitespace-stream.pdf": ("skipped", "extraction timed out after"),
    "ten-thousand-pages.pdf": ("ingested", None),
    "archive.pdf": ("skipped", "not a PDF"),
    "encrypted.pdf": ("skipped", "encrypted PDF that cannot be opened without a password"),
    "empty.pdf": ("skipped", "empty file (0 bytes)"),
    "no-pages.pdf": ("skipped", "no extractable text"),
    "image-only.pdf": ("skipped", "no extractable text"),
    "deep-nesting.html": ("ingested", None),
    "huge.txt": ("skipped", "the limit is"),
    "latin1.txt": ("ingested", None),
    "invalid-utf8.md": ("ingested", None),
    "utf16-bom.txt": ("ingested", None),
    "nul-filled.md": ("skipped", "binary content"),
    "random-bytes.md": ("skipped", "binary content"),
    "link-outside.md": ("skipped", "symbolic link to a file outside the source folder"),
    "bell\\x07and\\x1b[31mred.md": ("skipped", "control characters"),
    "plain.md": ("ingested", None),
}
MANIFEST_ERROR = "manifest.jsonl:2: url 'javascript:alert(document.cookie)' is not an http(s) address; line skipped"

_PROSE = (
    "The city council retrofitted {n} social housing blocks with heat pumps and external insulation, "
    "financed by a revolving fund that tenants helped design in neighbourhood assemblies."
)


def write_hostile_corpus(folder: Path, small: bool = False) -> Path:
    """Write the hostile files into `folder` (created) and the symlink target beside it; return `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pages = 40 if small else 10_000
    _whitespace_stream_pdf(folder / "whitespace-stream.pdf", pages=40 if small else 600)
    _many_pages_pdf(folder / "ten-thousand-pages.pdf", pages)
    _zip_named_pdf(folder / "archive.pdf")
    _encrypted_pdf(folder / "encrypted.pdf")
    (folder / "empty.pdf").write_bytes(b"")
    _no_pages_pdf(folder / "no-pages.pdf")
    _image_only_pdf(folder / "image-only.pdf")
    _deep_html(folder / "deep-nesting.html", depth=5_000)
    _huge_text(folder / "huge.txt", size=(5 if small else 50) * 1024 * 1024)
    (folder / "latin1.txt").write_bytes(
        "Chauffage urbain à Grenoble\n\nLa métropole a étendu le réseau de chaleur après une concertation "
        "publique ; les coûts d'investissement sont partagés entre la ville et l'opérateur.\n".encode("latin-1")
    )
    (folder / "invalid-utf8.md").write_bytes(
        "# Fernwärme in Köln\n\nDie Stadt baut das Wärmenetz aus; ".encode()
        + b"\xff\xfe\xc3 stray bytes \x80 "
        + "die Bürgerbeteiligung begann früh und die Finanzierung kam aus einem Förderprogramm.\n".encode()
    )
    (folder / "utf16-bom.txt").write_bytes(
        "Cycling in Ljubljana\n\nThe old town became car-free and bike sharing doubled in two years.\n".encode("utf-16")
    )
    (folder / "nul-filled.md").write_bytes(b"\x00" * 4096)
    (folder / "random-bytes.md").write_bytes(random.Random(7).randbytes(8192))
    outside = folder.parent / OUTSIDE_NAME
    outside.write_text(f"# Outside\n\nThis file lies outside the source folder: {SECRET_WORD}.\n", encoding="utf-8")
    link = folder / "link-outside.md"
    link.unlink(missing_ok=True)
    link.symlink_to(outside)
    (folder / CONTROL_NAME).write_text("# Control characters\n\nA file whose name holds a bell and an escape.\n",
                                       encoding="utf-8")
    (folder / "plain.md").write_text("# Tram depots\n\n" + _PROSE.format(n=12) + "\n", encoding="utf-8")
    (folder / "manifest.jsonl").write_text(
        '{"id": "plain", "file": "plain.md", "url": "https://example.org/plain"}\n'
        '{"id": "latin", "file": "latin1.txt", "url": "javascript:alert(document.cookie)"}\n',
        encoding="utf-8",
    )
    return folder


def _helvetica(writer: PdfWriter):
    return writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }))


def _text_page(writer: PdfWriter, contents, font) -> None:
    """A page that draws `contents` with font /F1 (pypdf skips text extraction on pages without fonts)."""
    page = writer.add_blank_page(width=612, height=792)
    page[NameObject("/Contents")] = contents
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})


def _whitespace_stream_pdf(path: Path, pages: int) -> None:
    """Every page shares one compressed 70 MB content stream of spaces (the file is about 70 KB)."""
    writer = PdfWriter()
    stream = DecodedStreamObject()
    stream.set_data(b" " * 70_000_000)
    shared = writer._add_object(stream.flate_encode(level=9))
    font = _helvetica(writer)
    for _ in range(pages):
        _text_page(writer, shared, font)
    writer.write(path)


def _many_pages_pdf(path: Path, pages: int) -> None:
    """`pages` pages of two distinct lines each, built as raw content streams (fpdf2 is slow at 10,000 pages).

    The words vary from page to page: identical lines on every page would be dropped as a running header.
    """
    writer = PdfWriter()
    font = _helvetica(writer)
    words = _PROSE.replace(",", "").replace(".", "").replace("{n}", "").split()
    for number in range(1, pages + 1):
        pick = random.Random(number)
        lines = [" ".join(pick.choices(words, k=9)) + "." for _ in range(2)]
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 11 Tf 14 TL 72 700 Td ({lines[0]}) Tj T* ({lines[1]}) Tj ET".encode())
        _text_page(writer, writer._add_object(stream), font)
    writer.write(path)


def _zip_named_pdf(path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.txt", _PROSE.format(n=3) * 50)
    path.write_bytes(buffer.getvalue())


def _text_pdf(text: str) -> FPDF:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, text)
    return pdf


def _encrypted_pdf(path: Path) -> None:
    buffer = io.BytesIO(bytes(_text_pdf(_PROSE.format(n=4)).output()))
    writer = PdfWriter(clone_from=buffer)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(path)


def _no_pages_pdf(path: Path) -> None:
    PdfWriter().write(path)


def _image_only_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    for row in range(8):
        pdf.rect(20, 20 + row * 25, 170, 12, style="F")  # drawn "lines" with no text layer
    pdf.output(str(path))


def _deep_html(path: Path, depth: int) -> None:
    article = f"<h1>Deeply nested page</h1><p>{_PROSE.format(n=7)}</p><p>{_PROSE.format(n=8)}</p>"
    path.write_text(
        "<!doctype html><html><head><title>Nested</title></head><body><main>"
        + article + "<div>" * depth + "<p>innermost</p>" + "</div>" * depth + "</main></body></html>",
        encoding="utf-8",
    )


def _huge_text(path: Path, size: int) -> None:
    line = (_PROSE.format(n=1) + "\n").encode()
    with path.open("wb") as out:
        written = 0
        while written < size:
            out.write(line * 1000)
            written += len(line) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--small", action="store_true", help="fewer pages and a 5 MB text file (for fast tests)")
    arguments = parser.parse_args()
    write_hostile_corpus(arguments.folder, small=arguments.small)
    print(f"wrote {len(os.listdir(arguments.folder))} files into {arguments.folder} "
          f"(and {OUTSIDE_NAME} beside it)")


if __name__ == "__main__":
    main()
