"""The one hierarchy of domain errors: each carries its HTTP status; the API maps them in one handler, the CLI
prints their message (exit code 1, no traceback).

    NZCError                      500  base of every error a user can act on
      BadRequest                  400
        AmbiguousCity             400  a spelling that names cities in several countries
      InvalidParameter            422  a value we cannot accept (also a ValueError)
        FormatError               422  a file that does not follow its format (names the file and line)
      Unauthorized / Forbidden    401 / 403
        AdminDenied               401 or 403  an admin request without a valid token
      NotFound                    404
        UnknownCity               404
      Conflict                    409
        BrokenSnapshot            409  a snapshot that cannot be served
      PayloadTooLarge             413  an upload over NZC_MAX_UPLOAD_BYTES
      ExtractionError             422  a file no converter can use (skipped and reported by ingest)
      NoSnapshot                  503
        UnreadablePointer         503  CURRENT exists but names no snapshot of the store
"""

from __future__ import annotations

from pathlib import Path


class NZCError(Exception):
    """Base of every error the user can act on; `status` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(NZCError):
    status = 400


class InvalidParameter(NZCError, ValueError):
    """A parameter, option or field with a value we cannot accept (422, like FastAPI's own).

    It is a ValueError too, so pydantic validators and `float()`-style callers treat it as one.
    """

    status = 422


class FormatError(InvalidParameter):
    """A file that does not follow its format; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem

    def __reduce__(self):  # pickles with its three arguments (errors cross the extraction worker's boundary)
        return type(self), (self.path, self.line, self.problem)


class NotFound(NZCError):
    status = 404


class Unauthorized(NZCError):
    status = 401


class Forbidden(NZCError):
    status = 403


class AdminDenied(NZCError):
    """An admin request without a valid token; `caller` names it in the audit log without any token-derived value."""

    def __init__(self, error: Forbidden | Unauthorized, caller: str) -> None:
        super().__init__(error.message)
        self.status = error.status
        self.caller = caller


class Conflict(NZCError):
    status = 409


class BrokenSnapshot(Conflict):
    """A snapshot that cannot be served (damaged manifest, missing or truncated file); never made current."""


class PayloadTooLarge(NZCError):
    """An upload over the size limit."""

    status = 413


class ExtractionError(NZCError):
    """A file cannot be used; the message is the reason shown in the ingest report."""

    status = 422


class NoSnapshot(NZCError):
    """No index snapshot has been built yet in the index folder."""

    status = 503


class OutdatedSnapshot(NZCError):
    """A snapshot written in another format than this engine reads: it must be rebuilt (503 until it is)."""

    status = 503


class MilvusUnavailable(NZCError):
    """NZC_BACKEND=milvus and Milvus cannot be opened or written (a server down, a Lite file held by another process)."""

    status = 503


class UnreadablePointer(NoSnapshot):
    """The CURRENT pointer exists but cannot be read or names no snapshot of this store."""


class UnknownCity(NotFound):
    """No city has this spelling; `suggestions` are the close matches the message lists."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class AmbiguousCity(BadRequest):
    """The spelling names cities in several countries; a country must be given."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates
