"""Server logs as JSON lines, each tagged with the id of the request it belongs to (also sent as `X-Request-ID`)."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

REQUEST_ID_HEADER = "x-request-id"
# An incoming id is reused only when it cannot break a log line or a header: short, plain characters.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
request_id_var: ContextVar[str | None] = ContextVar("nzc_request_id", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and belongs in the JSON object.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


def request_id_from(incoming: str | None) -> str:
    """The client's X-Request-ID when it is sane, else a fresh random one."""
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request's id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, any `extra=` fields, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# uvicorn's loggers keep their own handlers (and do not propagate); they get the same format and request ids.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure_logging(log_format: str, level: str) -> None:
    """Send the server's logs to stderr in `log_format` ("json" or "text"); safe to call once per app."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    root = logging.getLogger()
    handler = next((handler for handler in root.handlers if getattr(handler, "nzc_handler", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.nzc_handler = True  # type: ignore[attr-defined]
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(formatter)
    for name in ("nzc_knowledge", "nzc"):
        logging.getLogger(name).setLevel(level)
    for name in UVICORN_LOGGERS:
        for uvicorn_handler in logging.getLogger(name).handlers:
            uvicorn_handler.setFormatter(formatter)
            if not any(isinstance(existing, RequestIdFilter) for existing in uvicorn_handler.filters):
                uvicorn_handler.addFilter(RequestIdFilter())
