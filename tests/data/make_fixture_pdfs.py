"""Regenerate the PDF fixtures (committed; run only when changing them): `python tests/data/make_fixture_pdfs.py`."""

from __future__ import annotations

import sys
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1] / "scripts"))
from render_sample_pdf import render  # noqa: E402

REPORT = """# Kozani heat transition factsheet

## Key figures

"""
REPORT += "\n\n".join(
    f"## Section {number}\n\nThe municipal utility's decarbonisation programme identified significant financial obstacles and "
    f"procurement difficulties for the refurbishment of district heating substations in neighbourhood {number}, "
    f"with self-consumption of solar heat planned for the summer months. The efficient flue gas condensation "
    f"units were financed by a European Investment Bank loan."
    for number in range(1, 16)
)


def main() -> None:
    source = HERE / "kozani-report.md"
    source.write_text(REPORT, encoding="utf-8")
    render(source, HERE / "corpus" / "docs" / "kozani-report.pdf", "Municipality of Kozani - Heat Office - 2023", ligatures=True)
    source.unlink()

    writer = PdfWriter(clone_from=HERE / "corpus" / "docs" / "kozani-report.pdf")
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(HERE / "files" / "encrypted.pdf")

    writer = PdfWriter(clone_from=HERE / "corpus" / "docs" / "kozani-report.pdf")
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(HERE / "files" / "restricted-but-readable.pdf")

    image_only = FPDF()
    image_only.add_page()
    image_only.set_fill_color(120, 120, 120)
    for row in range(10):
        image_only.rect(20, 20 + row * 25, 170, 12, style="F")  # drawn "lines of text" with no text layer
    image_only.output(str(HERE / "files" / "image-only.pdf"))
    assert len(PdfReader(HERE / "corpus" / "docs" / "kozani-report.pdf").pages) >= 2


if __name__ == "__main__":
    main()
