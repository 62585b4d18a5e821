"""Wires settings, engine, units of work and the clock for every entrypoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

import sqlalchemy as sa

from fairdesk.adapters.db.engine import Engines, make_engines
from fairdesk.adapters.db.uow import UnitOfWorkFactory
from fairdesk.config import Settings
from fairdesk.services.clock import Clock, ShiftedClock, SystemClock
from fairdesk.services.ports import Transport

__all__ = ["App", "bootstrap"]


@dataclass
class App:
    """Everything a use case needs from the outside world."""

    settings: Settings
    clock: Clock

    @cached_property
    def engines(self) -> Engines:
        return make_engines(self.settings.database_url)

    @property
    def engine(self) -> sa.Engine:
        """The write engine (health checks, tests); reads go through ``engines.read``."""
        return self.engines.write

    @cached_property
    def uows(self) -> UnitOfWorkFactory:
        return UnitOfWorkFactory(self.engines)

    def transports(self) -> dict[str, Transport]:
        """The configured ways out: e-mail (SMTP or Maildir), SMS (file provider), webhooks."""
        from fairdesk.adapters import transports as tr

        s = self.settings
        out: dict[str, Transport] = {"webhook": tr.WebhookTransport(timeout_s=s.webhook_timeout_s)}
        if s.smtp_host:
            out["email"] = tr.SmtpTransport(s.smtp_host, s.smtp_port, s.mail_from, s.smtp_username, s.smtp_password,
                                            s.smtp_starttls, s.smtp_ssl)
        elif s.maildir:
            out["email"] = tr.MaildirTransport(s.maildir)
        if s.sms_file:
            out["sms"] = tr.SmsTransport(tr.FileSms(s.sms_file))
        return out

    def dispose(self) -> None:
        self.engines.dispose()


def bootstrap(settings: Settings, clock: Clock | None = None) -> App:
    if clock is None:
        offset = settings.demo_clock_offset_s
        clock = ShiftedClock(timedelta(seconds=offset), settings.tz) if offset else SystemClock(settings.tz)
    return App(settings=settings, clock=clock)
