"""One typed settings object, read from FAIRDESK_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "load_settings"]

#: Placeholder values that must never protect a real deployment.
_WEAK_SECRETS = {"", "changeme", "change-me", "secret", "dev", "test"}
MIN_SECRET = 32


class SettingsError(ValueError):
    """The configuration cannot be used; the message says which variable to fix."""


class Settings(BaseSettings):
    """fairdesk's configuration. Every field is ``FAIRDESK_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="FAIRDESK_", extra="ignore")

    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'fairdesk.db'}")
    secret_key: str = ""
    demo: bool = False
    timezone: str = "Asia/Shanghai"
    language: Literal["zh-CN", "en"] = "zh-CN"
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"
    #: Requests larger than this are refused with 413 before they are parsed.
    max_body_bytes: int = 1_048_576
    session_max_age_s: int = 8 * 3600
    #: Rate limits per client (``N/second|minute|hour``; empty: off). Login and token requests per address;
    #: the public, unauthenticated endpoints per address; intake (new tickets, conversations, complaints) per
    #: credential, else per address. Each API process counts alone unless the storage is shared
    #: (``redis://host:6379`` — any URI the `limits` library takes).
    rate_limit_login: str = "20/minute"
    rate_limit_public: str = "300/minute"
    rate_limit_intake: str = "600/minute"
    rate_limit_storage: str = "memory://"
    #: Where people reach this server; links in e-mails and SMS (survey links, tickets) start with it.
    public_url: str = "http://127.0.0.1:8000"
    #: E-mail: an SMTP server, or (demo) a Maildir folder. With neither, e-mails wait in the outbox as dead.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "fairdesk <noreply@localhost>"
    maildir: Path | None = None
    #: SMS: the bundled provider appends each message to this file (JSON lines).
    sms_file: Path | None = None
    webhook_timeout_s: float = 10.0
    #: Allow webhooks to loopback and private addresses (tests, the demo, an internal network).
    webhook_allow_private: bool = False
    worker_poll_s: float = 1.0
    #: How long a worker holds a message it is sending before another worker may take it over.
    worker_lease_s: int = 120
    #: Demo only: the clock runs this many seconds ahead of (or, negative, behind) real time, in every process
    #: of the demo alike (`fairdesk demo --at`), to rehearse a given moment of a working day.
    demo_clock_offset_s: float = 0.0

    @field_validator("rate_limit_login", "rate_limit_public", "rate_limit_intake")
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse

        if v.strip():
            try:
                parse(v)
            except ValueError as exc:
                raise ValueError(f"not a rate limit like 20/minute: {v!r}") from exc
        return v.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {v!r}") from exc
        return v

    @field_validator("database_url")
    @classmethod
    def _supported_db(cls, v: str) -> str:
        if not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("FAIRDESK_DATABASE_URL must be sqlite:///… or postgresql+psycopg://…")
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v.removeprefix("postgresql://")
        return v

    @model_validator(mode="after")
    def _shifted_clock_only_in_demo(self) -> Settings:
        if self.demo_clock_offset_s and not self.demo:
            raise ValueError("FAIRDESK_DEMO_CLOCK_OFFSET_S is for `fairdesk demo` only: production runs on real time")
        return self

    @model_validator(mode="after")
    def _secret_required(self) -> Settings:
        if not self.demo and (self.secret_key.lower() in _WEAK_SECRETS or len(self.secret_key) < MIN_SECRET):
            raise ValueError(
                f"FAIRDESK_SECRET_KEY must be set to a random value of at least {MIN_SECRET} characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`); "
                "only `fairdesk demo` runs without one")
        return self

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("FAIRDESK_PUBLIC_URL must start with http:// or https://")
        return v.rstrip("/")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and overrides), or a SettingsError naming what is wrong."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise SettingsError(reasons) from None
