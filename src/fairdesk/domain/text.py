"""Checks on free text that every entity shares."""

from __future__ import annotations

from fairdesk.domain.errors import InvalidInput

__all__ = ["clean_text"]


def clean_text(value: str, what: str, limit: int, *, required: bool = True, collapse: bool = False) -> str:
    """Stripped text (whitespace runs collapsed when ``collapse``), refused when empty but required or too long."""
    value = " ".join(value.split()) if collapse else value.strip()
    if required and not value:
        raise InvalidInput("input.empty", f"{what} must not be empty", field=what)
    if len(value) > limit:
        raise InvalidInput("input.too_long", f"{what} is longer than {limit} characters", field=what)
    return value
