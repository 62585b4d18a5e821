"""Structured logs (structlog) with request ids; phone numbers and addresses never reach a log in clear."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["configure_logging", "mask_personal_data", "mask_text"]

# Mainland mobiles (1[3-9]x, 11 digits, optionally +86), landlines with area codes, 400/800 numbers.
_PHONE = re.compile(r"(?<!\d)(\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)"
                    r"|(?<!\d)(0\d{2,3})[-\s]?(\d{7,8})(?!\d)")
_SENSITIVE_KEYS = {"phone", "phones", "address", "addresses", "password", "token", "authorization",
                   "secret_key", "cookie"}


def _mask_phone(m: re.Match[str]) -> str:
    if m.group(2):
        return f"{m.group(2)}****{m.group(4)}"
    return f"{m.group(5)}****{m.group(6)[-2:]}"


def mask_text(text: str) -> str:
    """Keep enough of a phone number to tell numbers apart (138****5678), no more."""
    return _PHONE.sub(_mask_phone, text)


def _mask_value(key: str, value: Any) -> Any:
    if key.lower() in _SENSITIVE_KEYS:
        if key.lower() in ("password", "token", "authorization", "secret_key", "cookie"):
            return "***"
        if isinstance(value, str):
            return value[:2] + "***" if key.lower().startswith("address") else mask_text(value)
        if isinstance(value, list | tuple):
            return [_mask_value(key, v) for v in value]
        return "***"
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_personal_data(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: masks phones anywhere in strings and whole values of sensitive keys."""
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_value(key, value)
    return event_dict


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    renderer: Any = (structlog.processors.JSONRenderer(ensure_ascii=False) if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
