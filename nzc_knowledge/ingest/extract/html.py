"""HTML converter: trafilatura keeps the article and drops navigation, cookie banners, sidebars and footers."""

from __future__ import annotations

from pathlib import Path

import trafilatura
from lxml import etree

from nzc_knowledge.errors import ExtractionError
from nzc_knowledge.ingest.extract.blocks import assemble
from nzc_knowledge.ingest.extract.limits import DEFAULT_MAX_TEXT_CHARS
from nzc_knowledge.ingest.extract.text import read_text
from nzc_knowledge.models import ExtractedDoc

_HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def extract_html(path: Path, max_chars: int = DEFAULT_MAX_TEXT_CHARS) -> ExtractedDoc:
    html = read_text(path, max_chars)  # the page source: its text cannot be longer
    xml = trafilatura.extract(
        html,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_formatting=False,
        favor_precision=True,
        with_metadata=True,
    )
    if not xml:
        raise ExtractionError("no article text found in the HTML page (only navigation or boilerplate)")
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError as error:
        raise ExtractionError(f"could not read the extracted article: {error}") from error
    parts = _article_parts(root)
    title = (root.get("title") or "").strip() or None
    heading_1 = next((text for kind, text, _, level in parts if kind == "heading" and level == 1), None)
    # The page <title> often carries the site name ("... | City of Lyon"); the article's h1 is cleaner.
    return assemble(parts, title=heading_1 or title, fmt="html")


def _article_parts(root: etree._Element) -> list[tuple[str, str, int | None, int]]:
    main = root.find("main")
    if main is None:
        main = root
    parts: list[tuple[str, str, int | None, int]] = []
    for element in main.iter("head", "p", "item", "row"):
        text = " ".join("".join(element.itertext()).split())
        if not text:
            continue
        if element.tag == "head":
            level = _HEADING_LEVEL.get(element.get("rend", ""), 2)
            parts.append(("heading", text, None, level))
        elif element.tag == "p" and element.getparent() is not None and element.getparent().tag in ("item", "cell"):
            continue  # already taken with its list item / table row
        else:
            parts.append(("paragraph", text, None, 0))
    return parts
