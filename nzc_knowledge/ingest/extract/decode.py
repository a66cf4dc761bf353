"""Decode a text file's bytes by detection, and refuse bytes that are not text.

Order: a byte-order mark decides; then strict UTF-8; then UTF-8 with a few stray bytes (more valid multi-byte
characters than broken ones: an edited UTF-8 file, not a legacy code page); then charset-normalizer among the
European code pages. Why a candidate list: on short texts charset-normalizer otherwise picks exotic code pages
("Café réseau" in cp1252 came back as Urdu cp1006), and the repository's content is European.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from nzc_knowledge.errors import ExtractionError

_BYTE_ORDER_MARKS = (  # UTF-32 first: the UTF-32-LE mark begins with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
EUROPEAN_CODE_PAGES = [
    "cp1252", "iso8859_15", "iso8859_1", "cp1250", "iso8859_2", "cp1257", "iso8859_13", "cp1253", "iso8859_7",
    "cp1251", "iso8859_5", "koi8_r", "cp1254", "iso8859_9", "mac_roman",
]
MAX_CONTROL_SHARE = 0.01  # more control characters than this (1 in 100) is binary data, not text
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # tab, newlines and form feed are text


def decode_text(raw: bytes) -> str:
    """The text of `raw`; raise ExtractionError when the bytes are binary or fit no text encoding."""
    text = _by_byte_order_mark(raw)
    if text is None:
        text = _utf8(raw)
    if text is None:
        text = _detected(raw)
    if text is None:
        raise ExtractionError("binary content: the bytes fit no text encoding (UTF-8 or a European code page)")
    if "\x00" in text:
        raise ExtractionError("binary content: the file holds NUL characters "
                              "(UTF-16 without a byte-order mark? save it as UTF-8)")
    controls = len(_CONTROL.findall(text))
    if text and controls > MAX_CONTROL_SHARE * len(text):
        raise ExtractionError(f"binary content: {controls / len(text):.0%} of the characters are control characters")
    return text


def _by_byte_order_mark(raw: bytes) -> str | None:
    for mark, encoding in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            try:
                return raw[len(mark):].decode(encoding)
            except UnicodeDecodeError as error:
                raise ExtractionError(
                    f"starts with a {encoding} byte-order mark but is not valid {encoding} (byte {error.start})"
                ) from None
    return None


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = raw.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    multi_byte = len(text) - len(text.encode("ascii", "ignore")) - broken
    return text if multi_byte > broken else None


def _detected(raw: bytes) -> str | None:
    best = charset_normalizer.from_bytes(raw, cp_isolation=EUROPEAN_CODE_PAGES).best()
    return None if best is None else str(best)
