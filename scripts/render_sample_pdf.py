"""Render a Markdown source into a text PDF for the sample corpus.

Why a script: the sample PDFs must be real, reproducible files that exercise the PDF converter's
repairs, so they carry what real reports carry: a running header and footer on every page,
words hyphenated across line breaks, optional typographic ligatures (fi, fl), several pages.

Usage:
    python scripts/render_sample_pdf.py SOURCE.md OUT.pdf --header "City of Lahti - Climate Office" [--ligatures]

SOURCE.md: '# Title' for the title, '## Heading' for section headings, blank-line separated
paragraphs, '- item' for bullet lines.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LIGATURES = {"ffi": "\ufb03", "ffl": "\ufb04", "fi": "\ufb01", "fl": "\ufb02"}
MIN_SPLIT = 3  # never leave fewer than 3 letters on either side of a hyphen


class ReportPDF(FPDF):
    """A PDF page with a running header and a 'page N' footer, like a municipal report."""

    def __init__(self, running_header: str) -> None:
        super().__init__(format="A4")
        self.running_header = running_header
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=22)
        self.set_margins(22, 24, 22)

    def header(self) -> None:
        self.set_font("DejaVu", "", 8)
        self.set_y(10)
        self.cell(0, 5, self.running_header, align="C")
        self.ln(10)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, f"Page {self.page_no()}", align="C")


def with_ligatures(text: str) -> str:
    for plain, ligature in LIGATURES.items():
        text = text.replace(plain, ligature)
    return text


def wrap_with_hyphens(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy line filling that hyphenates a long word across the line end, as typeset reports do."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if pdf.get_string_width(candidate) <= width:
            current = candidate
            continue
        head, tail = split_word_to_fit(pdf, current, word, width)
        if head:
            lines.append(f"{current} {head}-".strip())
            current = tail
        else:
            if current:
                lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def split_word_to_fit(pdf: FPDF, current: str, word: str, width: float) -> tuple[str, str]:
    """Longest alphabetic prefix of `word` that fits after `current` with a hyphen, or ('', word)."""
    if len(word) < 2 * MIN_SPLIT + 2 or not word[:-1].isalpha():
        return "", word
    for cut in range(len(word) - MIN_SPLIT, MIN_SPLIT - 1, -1):
        head = word[:cut]
        if pdf.get_string_width(f"{current} {head}-".strip()) <= width:
            return head, word[cut:]
    return "", word


def render(source: Path, out: Path, running_header: str, ligatures: bool) -> None:
    pdf = ReportPDF(running_header)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    blocks = [block.strip() for block in source.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    for block in blocks:
        if block.startswith("# "):
            pdf.set_font("DejaVu", "B", 16)
            pdf.multi_cell(0, 8, block[2:].strip())
            pdf.ln(3)
            continue
        if block.startswith("## "):
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 12)
            pdf.multi_cell(0, 7, block[3:].strip())
            pdf.ln(1)
            continue
        pdf.set_font("DejaVu", "", 10.5)
        paragraphs = block.split("\n- ") if block.startswith("- ") else [" ".join(block.split("\n"))]
        for paragraph in paragraphs:
            body = paragraph.removeprefix("- ").replace("\n", " ")
            prefix = "\u2022 " if block.startswith("- ") else ""
            body = with_ligatures(body) if ligatures else body
            for line in wrap_with_hyphens(pdf, prefix + body, width):
                pdf.cell(0, 5.6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5)
    pdf.output(str(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--header", required=True, help="running header printed on every page")
    parser.add_argument("--ligatures", action="store_true", help="typeset fi/fl/ffi/ffl as ligatures")
    args = parser.parse_args()
    render(args.source, args.out, args.header, args.ligatures)


if __name__ == "__main__":
    main()
