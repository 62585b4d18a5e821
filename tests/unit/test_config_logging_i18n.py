"""Settings refuse to start unsafely; logs mask personal data; the language is negotiated."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fairdesk.config import SettingsError, load_settings
from fairdesk.i18n import negotiate, problem_title
from fairdesk.logs import mask_personal_data, mask_text


class TestSettings:
    def test_outside_demo_mode_a_missing_secret_key_refuses_to_start(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("FAIRDESK_SECRET_KEY", raising=False)
        monkeypatch.delenv("FAIRDESK_DEMO", raising=False)
        with pytest.raises(SettingsError, match="FAIRDESK_SECRET_KEY"):
            load_settings()

    def test_a_placeholder_secret_is_refused(self) -> None:
        with pytest.raises(SettingsError):
            load_settings(secret_key="changeme")

    def test_demo_mode_runs_without_a_secret(self) -> None:
        assert load_settings(demo=True, secret_key="").demo

    def test_a_shifted_clock_runs_only_in_the_demo(self) -> None:
        from datetime import UTC, datetime, timedelta

        from fairdesk.bootstrap import bootstrap
        from fairdesk.services.clock import ShiftedClock, SystemClock

        with pytest.raises(SettingsError, match="demo"):
            load_settings(secret_key="x" * 40, demo_clock_offset_s=3600)
        wired = bootstrap(load_settings(demo=True, demo_clock_offset_s=-86_400, database_url="sqlite://"))
        assert isinstance(wired.clock, ShiftedClock)
        behind = datetime.now(UTC) - wired.clock.now()
        assert timedelta(hours=23, minutes=59) < behind < timedelta(days=1, minutes=1)
        assert isinstance(bootstrap(load_settings(demo=True, database_url="sqlite://")).clock, SystemClock)

    def test_defaults_are_shanghai_time_chinese_and_a_local_sqlite_file(self) -> None:
        s = load_settings(demo=True)
        assert (s.timezone, s.language) == ("Asia/Shanghai", "zh-CN")
        assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("fairdesk.db")

    def test_a_plain_postgresql_url_uses_psycopg3(self) -> None:
        s = load_settings(demo=True, database_url="postgresql://u@h/db")
        assert s.database_url == "postgresql+psycopg://u@h/db"

    def test_other_databases_and_unknown_zones_are_refused(self) -> None:
        with pytest.raises(SettingsError):
            load_settings(demo=True, database_url="mysql://x")
        with pytest.raises(SettingsError):
            load_settings(demo=True, timezone="Mars/Olympus")


class TestMasking:
    @pytest.mark.parametrize(("raw", "masked"), [
        ("call 13800138000 now", "call 138****8000 now"),
        ("+86 138 0013 8000", "138****8000"),
        ("landline 010-12345678", "landline 010****78"),
    ])
    def test_phone_numbers_in_log_text_are_masked(self, raw: str, masked: str) -> None:
        assert mask_text(raw) == masked

    def test_addresses_and_secrets_are_masked_by_key(self) -> None:
        out = mask_personal_data(None, "info", {"address": "福建省漳州市漳浦县府前街18号", "password": "pw",
                                               "phones": ["13912345678"], "event": "x"})
        assert out == {"address": "福建***", "password": "***", "phones": ["139****5678"], "event": "x"}


class TestLanguage:
    def test_chinese_is_the_default(self) -> None:
        assert negotiate(None, None, None) == "zh-CN"

    def test_query_beats_cookie_beats_header(self) -> None:
        assert negotiate("en", "zh-CN", "zh") == "en"
        assert negotiate(None, "en", "zh-CN") == "en"
        assert negotiate(None, None, "en-US,en;q=0.9") == "en"
        assert negotiate("xx", None, "fr") == "zh-CN"

    def test_problem_titles_exist_in_both_languages(self) -> None:
        assert problem_title("ticket.not_found", 404, "zh-CN") == "工单不存在"
        assert problem_title("ticket.not_found", 404, "en") == "Ticket not found"
        assert problem_title("something.unknown", 409, "en") == "Conflict"


def test_the_domain_imports_no_framework() -> None:
    """`import fairdesk.domain.*` loads no SQLAlchemy, FastAPI, Typer or Jinja."""
    code = ("import sys, fairdesk.domain.tickets, fairdesk.domain.customers, fairdesk.domain.people;"
            "bad=[m for m in ('sqlalchemy','fastapi','typer','jinja2','starlette') if m in sys.modules];"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
