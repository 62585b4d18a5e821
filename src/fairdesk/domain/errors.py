"""Domain errors carry a stable code; entrypoints turn them into HTTP problems or CLI exits."""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DomainError",
    "Duplicate",
    "Forbidden",
    "Gone",
    "InvalidInput",
    "NotFound",
    "StaleState",
    "TooManyRequests",
    "Unauthenticated",
]


class DomainError(Exception):
    """A rule the request broke, named by a stable dotted code such as ``ticket.illegal_transition``."""

    code: str = "domain.error"

    def __init__(self, code: str | None = None, detail: str = "", **context: object) -> None:
        self.code = code or type(self).code
        self.detail = detail
        self.context = context
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class InvalidInput(DomainError):
    """The input is malformed or breaks a rule about its own content (HTTP 422)."""

    code = "input.invalid"


class NotFound(DomainError):
    """The thing does not exist, or the actor may not know it exists (HTTP 404)."""

    code = "not_found"


class Forbidden(DomainError):
    """The actor is known and sees the thing but may not do this to it (HTTP 403)."""

    code = "access.forbidden"


class Conflict(DomainError):
    """The request conflicts with the current state (HTTP 409)."""

    code = "conflict"


class Duplicate(Conflict):
    """The store already holds a row with that key: raised by the unit of work when a write breaks a unique
    constraint, so services need not know which database said so."""

    code = "conflict.duplicate"


class StaleState(Conflict):
    """Another transaction changed what this one read (an optimistic lock's version moved on)."""

    code = "conflict.stale"


class Unauthenticated(DomainError):
    """No valid credentials were given (HTTP 401)."""

    code = "auth.required"


class Gone(DomainError):
    """The thing existed but can no longer be used: a used or expired one-time link (HTTP 410)."""

    code = "gone"


class TooManyRequests(DomainError):
    """Too many attempts: wait ``retry_after`` seconds (HTTP 429 with Retry-After)."""

    code = "rate.limited"

    def __init__(self, code: str | None = None, detail: str = "", *, retry_after: int, **context: object) -> None:
        super().__init__(code, detail, **context)
        self.retry_after = max(1, int(retry_after))
