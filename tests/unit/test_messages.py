"""Message templates, webhook signatures, retry backoff and survey answers: pure functions, no database."""

from __future__ import annotations

import random

import pytest

from fairdesk.adapters.transports import sign, verify
from fairdesk.domain.errors import InvalidInput
from fairdesk.services.notify import render
from fairdesk.services.surveys import Answer
from fairdesk.services.worker import BASE_DELAY_S, MAX_DELAY_S, backoff


class TestTemplates:
    def test_every_kind_renders_in_both_languages(self) -> None:
        ctx = {"brand": "安固", "number": "AG-1", "subject": "门锁", "clock": "resolution", "percent": 75,
               "deadline": "2026-11-27 10:00", "link": "https://x/t/1", "reason": "SLA", "expires": "2026-12-08",
               "csat": 1, "nps": None, "comment": "", "plan": "安心保", "renews_on": "2026-12-01", "price": "99.00"}
        for kind in ("sla_warning", "sla_breached", "ticket_reassigned", "survey_invite", "survey_low_score",
                     "renewal_reminder"):
            zh_subject, zh_body = render(kind, "zh-CN", **ctx)
            en_subject, en_body = render(kind, "en", **ctx)
            assert zh_subject and zh_body and en_subject and en_body and zh_body != en_body
        assert "解决时限" in render("sla_warning", "zh-CN", **ctx)[0]
        assert "resolution" in render("sla_warning", "en", **ctx)[0]

    def test_an_unknown_language_falls_back_to_chinese_and_missing_values_fail_loudly(self) -> None:
        import jinja2

        assert "打分" in render("survey_invite", "fr", brand="b", number="n", link="l", expires="e")[1]
        with pytest.raises(jinja2.UndefinedError):
            render("survey_invite", "zh-CN", brand="b")


class TestSignatures:
    def test_a_receiver_accepts_the_signature_and_refuses_tampering_and_replays(self) -> None:
        body, secret = b'{"id":"e1"}', "whsec_x"
        header = sign(secret, body, 1_800_000_000)
        assert verify(secret, body, header, now=1_800_000_010)
        assert not verify(secret, body + b" ", header, now=1_800_000_010)  # body changed
        assert not verify("whsec_y", body, header, now=1_800_000_010)  # wrong secret
        assert not verify(secret, body, header, now=1_800_000_000 + 301)  # too old: a replay
        assert not verify(secret, body, "t=abc,v1=00", now=1_800_000_000)
        assert not verify(secret, body, "garbage", now=1_800_000_000)


class TestBackoff:
    def test_it_doubles_with_jitter_and_is_capped(self) -> None:
        rng = random.Random(7)
        for attempt in range(1, 20):
            delay = backoff(attempt, rng)
            nominal = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
            assert 0.8 * nominal <= delay <= 1.2 * nominal


class TestAnswers:
    @pytest.mark.parametrize("answer", [Answer(0), Answer(6), Answer(3, nps=11), Answer(3, nps=-1),
                                        Answer(3, technician_rating=0), Answer(True)])
    def test_out_of_range_scores_are_refused(self, answer: Answer) -> None:
        with pytest.raises(InvalidInput):
            answer.validate()

    def test_the_edges_are_allowed(self) -> None:
        for answer in (Answer(1, 0, 1), Answer(5, 10, 5), Answer(3)):
            answer.validate()
