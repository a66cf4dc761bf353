"""Domain errors that carry their HTTP status; the API maps them in one handler, the CLI prints them."""

from __future__ import annotations


class NZCError(Exception):
    """Base of every error the user can act on; `status` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(NZCError):
    status = 400


class InvalidParameter(NZCError):
    """A query parameter or body field with a value we cannot accept (422, like FastAPI's own)."""

    status = 422


class NotFound(NZCError):
    status = 404


class Unauthorized(NZCError):
    status = 401


class Forbidden(NZCError):
    status = 403


class Conflict(NZCError):
    status = 409


class NoSnapshot(NZCError):
    """No index snapshot has been built yet in the index folder."""

    status = 503


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
