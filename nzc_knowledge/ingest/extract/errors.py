"""The one error a converter raises."""


class ExtractionError(Exception):
    """A file cannot be used; the message is the reason shown in the ingest report."""
