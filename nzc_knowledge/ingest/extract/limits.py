"""The text-length limit every converter applies, and the skip reason for a text over it."""

DEFAULT_MAX_TEXT_CHARS = 3_000_000  # about 1,000 report pages; see Settings.max_text_chars


def text_too_long(length: int, limit: int, where: str = "") -> str:
    """The skip reason for a text over the limit (a longer text would hold the single ingest worker for long)."""
    return (f"text is {length:,} characters long{where}; the limit is {limit:,} (NZC_MAX_TEXT_CHARS): "
            "split the document or raise the limit")
