"""The ASGI factory that `fairdesk serve` hands to uvicorn workers: settings come from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from fairdesk.bootstrap import bootstrap
from fairdesk.config import load_settings
from fairdesk.entrypoints.app import create_app
from fairdesk.logs import configure_logging

__all__ = ["make_app"]


def make_app() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(bootstrap(settings))
