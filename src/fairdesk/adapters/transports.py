"""Ways a message leaves fairdesk: e-mail (SMTP, or a Maildir for the demo), SMS (behind a provider interface;
the bundled provider appends to a file) and signed webhooks (HMAC-SHA256 over the timestamp and the body).

Every transport sends the outbox row's event id with the message (``X-Fairdesk-Event-Id``; the e-mail's
Message-ID; the SMS record's ``event_id``) so a receiver can drop a message it already has.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import mailbox
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any, Protocol

import httpx

from fairdesk.services.ports import Delivery, Transport

__all__ = [
    "Delivery",
    "FileSms",
    "MaildirTransport",
    "SmsProvider",
    "SmtpTransport",
    "Transport",
    "WebhookTransport",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Fairdesk-Signature"
EVENT_HEADER = "X-Fairdesk-Event-Id"
TOLERANCE_S = 300



def _email(row: Any, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = row.recipient
    msg["Subject"] = row.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{row.event_id}@fairdesk>"
    msg[EVENT_HEADER] = row.event_id
    msg.set_content(row.body, charset="utf-8")
    return msg


@dataclass
class SmtpTransport:
    host: str
    port: int = 25
    sender: str = "fairdesk <noreply@localhost>"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout_s: float = 10.0

    def send(self, row: Any, secret: str | None = None) -> Delivery:
        msg = _email(row, self.sender)
        try:
            if self.use_ssl:
                server: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                                       context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with server:
                if self.starttls:
                    server.starttls(context=ssl.create_default_context())
                if self.username:
                    server.login(self.username, self.password or "")
                server.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            return Delivery(False, f"recipient refused: {exc.recipients}", permanent=True)
        except (smtplib.SMTPException, OSError) as exc:
            return Delivery(False, f"{type(exc).__name__}: {exc}")
        return Delivery(True, f"accepted by {self.host}:{self.port}", 250)


@dataclass
class MaildirTransport:
    """Delivers e-mail into a local Maildir (the demo's inbox; any mail client can read it)."""

    path: Path

    def send(self, row: Any, secret: str | None = None) -> Delivery:
        box = mailbox.Maildir(self.path, create=True)
        key = box.add(_email(row, "fairdesk <noreply@localhost>"))
        return Delivery(True, f"maildir {key}")


class SmsProvider(Protocol):
    """An SMS gateway. A real one (Aliyun, Tencent Cloud) implements this with its SDK and credentials."""

    def send_sms(self, to: str, text: str, event_id: str) -> str: ...


@dataclass
class FileSms:
    """Writes each SMS as a JSON line to a file: the demo's phone, and a record tests can read."""

    path: Path

    def send_sms(self, to: str, text: str, event_id: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"event_id": event_id, "to": to, "text": text, "at": time.time()}, ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # several workers append whole lines
            f.write(line + "\n")
        return f"file:{self.path.name}"


@dataclass
class SmsTransport:
    provider: SmsProvider

    def send(self, row: Any, secret: str | None = None) -> Delivery:
        try:
            ref = self.provider.send_sms(row.recipient, row.body, row.event_id)
        except OSError as exc:
            return Delivery(False, f"{type(exc).__name__}: {exc}")
        return Delivery(True, ref)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``: what the receiver recomputes."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float | None = None, tolerance_s: int = TOLERANCE_S) -> bool:
    """Check a signature header the way a receiver should: right MAC, and a timestamp within the tolerance
    (so a captured delivery cannot be replayed later)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={parts.get('v1', '')}")


@dataclass
class WebhookTransport:
    timeout_s: float = 10.0
    client: httpx.Client | None = None

    def send(self, row: Any, secret: str | None = None) -> Delivery:
        body = row.body.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "fairdesk-webhooks/1",
                   EVENT_HEADER: row.event_id, "X-Fairdesk-Event-Type": row.kind,
                   SIGNATURE_HEADER: sign(secret or "", body, int(time.time()))}
        client = self.client or httpx.Client(timeout=self.timeout_s, follow_redirects=False)
        try:
            response = client.post(row.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Delivery(False, f"{type(exc).__name__}: {exc}")
        finally:
            if self.client is None:
                client.close()
        ok = 200 <= response.status_code < 300
        return Delivery(ok, response.text[:200] if not ok else "ok", response.status_code)
