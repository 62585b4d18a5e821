"""Satisfaction surveys on SQLite and PostgreSQL: sent when a request is resolved, answered once through a
one-time link, reported per brand / outlet / technician / product line and month, low scores followed up."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.people import Role
from fairdesk.services import identity
from fairdesk.services.worker import renewal_job
from tests.conftest import Seed
from tests.fakes import FrozenClock
from tests.integration.test_api_tickets import open_ticket
from tests.integration.test_plans_api import plans, subscribe  # noqa: F401 - plans is a fixture


def resolve(client: TestClient, seed: Seed, **body: Any) -> int:
    tid = open_ticket(client, seed, **body).json()["id"]
    r = client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "resolved"}, headers=seed.auth("agent_a"))
    assert r.status_code == 200, r.text
    return tid


def token_sent(wired: App) -> str:
    """The one-time token from the last survey invitation in the outbox (as the customer's phone shows it)."""
    with wired.engine.connect() as conn:
        body = conn.execute(sa.select(t.outbox.c.body).where(t.outbox.c.kind == "survey_invite")
                            .order_by(t.outbox.c.id.desc())).scalars().first()
    return re.search(r"/s/([\w-]+)", body).group(1)


def answer(client: TestClient, token: str, **body: Any) -> Any:
    return client.post(f"/api/v1/surveys/{token}", json={"csat": 5} | body)


def test_resolving_sends_one_survey_on_the_customers_channel(client: TestClient, seed: Seed, wired: App) -> None:
    resolve(client, seed)  # opened by the agent on the hotline: SMS to the customer's phone
    with wired.engine.connect() as conn:
        [msg] = conn.execute(sa.select(t.outbox).where(t.outbox.c.kind == "survey_invite")).all()
    assert msg.transport == "sms" and msg.recipient == "+8613800138000"
    assert "请花一分钟为本次服务打分" in msg.body and "仅可使用一次" in msg.body
    about = client.get(f"/api/v1/surveys/{token_sent(wired)}").json()
    assert about["number"].startswith("AG-") and about["rate_technician"] is False


def test_a_link_works_once_and_expires(client: TestClient, seed: Seed, wired: App, clock: FrozenClock) -> None:
    resolve(client, seed)
    token = token_sent(wired)
    assert answer(client, token, csat=4, nps=9, comment="师傅很专业").status_code == 200
    again = answer(client, token, csat=1)
    assert again.status_code == 410 and again.json()["code"] == "survey.used"
    assert client.get(f"/api/v1/surveys/{token}").status_code == 410
    resolve(client, seed)
    late = token_sent(wired)
    clock.advance(days=15)
    r = answer(client, late)
    assert r.status_code == 410 and r.json()["code"] == "survey.expired"
    unknown = answer(client, "not-a-real-token")
    assert unknown.status_code == 404 and unknown.json()["code"] == "survey.not_found"


def test_scores_out_of_range_are_refused_and_nothing_is_stored(client: TestClient, seed: Seed, wired: App) -> None:
    resolve(client, seed)
    token = token_sent(wired)
    for bad in ({"csat": 0}, {"csat": 6}, {"csat": 3, "nps": 11}, {"csat": 3, "nps": -1},
                {"csat": 3, "technician_rating": 4}):  # nobody visited: there is no technician to rate
        r = answer(client, token, **bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["code"] in ("survey.score", "survey.no_technician")
        assert r.json()["title"]
    assert answer(client, token, csat=3).status_code == 200  # the link still works after refused attempts


def test_a_low_score_opens_a_follow_up_task_for_a_manager(client: TestClient, seed: Seed, wired: App) -> None:
    identity.create_user(identity.CreateUser("angu", "boss", "王经理", Role.MANAGER, email="boss@angu.example"),
                         wired.uows(), wired.clock)
    tid = resolve(client, seed)
    r = answer(client, token_sent(wired), csat=1, nps=2, comment="等了三天没人上门")
    assert r.status_code == 200 and r.json()["follow_up_task"] is not None
    [task] = client.get("/api/v1/tasks", headers=seed.auth("manager_a")).json()
    assert task["ticket_id"] == tid and task["kind"] == "survey.follow_up"
    with wired.engine.connect() as conn:
        mail = conn.execute(sa.select(t.outbox).where(t.outbox.c.kind == "survey_low_score")).one()
    assert mail.recipient == "boss@angu.example" and "等了三天没人上门" in mail.body
    assert client.post(f"/api/v1/tasks/{task['id']}/done", json={"note": ""},
                       headers=seed.auth("manager_a")).status_code == 422
    assert client.post(f"/api/v1/tasks/{task['id']}/done", json={"note": "已回电，安排复修"},
                       headers=seed.auth("agent_a")).status_code == 403
    assert client.post(f"/api/v1/tasks/{task['id']}/done", json={"note": "已回电，安排复修"},
                       headers=seed.auth("manager_a")).status_code == 204
    assert client.get("/api/v1/tasks", headers=seed.auth("manager_a")).json() == []
    # a good score opens nothing
    resolve(client, seed)
    assert answer(client, token_sent(wired), csat=5, nps=10).json()["follow_up_task"] is None


def test_reports_per_group_and_month_with_csv(client: TestClient, seed: Seed, wired: App,
                                              clock: FrozenClock) -> None:
    scores = [(5, 10), (4, 9), (2, 3), (5, 7)]  # CSAT mean 4.0, 3 of 4 satisfied, NPS (2-1)/4 = 25
    for csat, nps in scores:
        resolve(client, seed, unit_id=seed.alice_unit)
        assert answer(client, token_sent(wired), csat=csat, nps=nps).status_code == 200
    resolve(client, seed)  # sent, not answered: response rate 4/5
    clock.advance(days=10)  # into December
    resolve(client, seed)
    answer(client, token_sent(wired), csat=1)
    rows = client.get("/api/v1/reports/surveys", headers=seed.auth("manager_a")).json()
    nov = next(r for r in rows if r["period"] == "2026-11")
    assert (nov["sent"], nov["answered"], nov["response_rate"]) == (5, 4, 0.8)
    assert (nov["csat_mean"], nov["csat_satisfied"], nov["nps"]) == (4.0, 0.75, 25.0)
    dec = next(r for r in rows if r["period"] == "2026-12")
    assert (dec["sent"], dec["answered"], dec["csat_mean"], dec["nps"]) == (1, 1, 1.0, None)
    by_line = client.get("/api/v1/reports/surveys?group=product_line&to=2026-11",
                         headers=seed.auth("manager_a")).json()
    assert {(r["key"], r["sent"]) for r in by_line} == {("home-safe", 4), (None, 1)}
    r = client.get("/api/v1/reports/surveys?format=csv&from=2026-11&to=2026-11", headers=seed.auth("auditor_a"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert row["period"] == "2026-11" and row["nps"] == "25.0"
    assert client.get("/api/v1/reports/surveys", headers=seed.auth("agent_a")).status_code == 403
    assert client.get("/api/v1/reports/surveys?from=2026-13", headers=seed.auth("manager_a")).status_code == 422
    other = client.get("/api/v1/reports/surveys", headers=seed.auth("agent_b"))
    assert other.status_code == 403  # another brand's agent: no report, and never brand A's rows


def test_the_survey_page_takes_an_answer_once(client: TestClient, seed: Seed, wired: App) -> None:
    resolve(client, seed)
    token = token_sent(wired)
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and "您对本次服务的满意程度" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    bad = client.post(f"/s/{token}", data={"csrf": csrf, "csat": "9"})
    assert bad.status_code == 422 and "评分超出范围" in bad.text
    assert client.post(f"/s/{token}", data={"csrf": "forged", "csat": "5"}).status_code == 403
    ok = client.post(f"/s/{token}", data={"csrf": csrf, "csat": "5", "nps": "10", "comment": "很好"})
    assert ok.status_code == 200 and "感谢您的评价" in ok.text
    assert client.get(f"/s/{token}").status_code == 410
    assert client.get("/s/unknown-token").status_code == 404



def test_the_customer_rates_from_their_request_page_and_the_link_then_is_used(client: TestClient, seed: Seed,
                                                                              wired: App) -> None:
    from tests.integration.test_web import csrf_of, login

    tid = resolve(client, seed)
    token = token_sent(wired)
    login(client, "alice", "alice-password")
    page = client.get(f"/tickets/{tid}")
    assert 'id="rate-link"' in page.text  # offered on the request while it waits
    form = client.get(f"/my/tickets/{tid}/survey")
    assert form.status_code == 200 and f'action="/my/tickets/{tid}/survey"' in form.text
    assert client.post(f"/my/tickets/{tid}/survey", data={"csrf": csrf_of(form.text), "csat": "0"}).status_code == 422
    done = client.post(f"/my/tickets/{tid}/survey", data={"csrf": csrf_of(form.text), "csat": "4", "nps": "8"})
    assert done.status_code == 200 and "感谢您的评价" in done.text
    assert 'id="rate-link"' not in client.get(f"/tickets/{tid}").text
    assert client.get(f"/my/tickets/{tid}/survey").status_code == 410  # once, whichever way
    assert answer(client, token).status_code == 410
    with wired.engine.connect() as conn:
        assert conn.execute(sa.select(t.surveys.c.csat, t.surveys.c.nps)).one() == (4, 8)
    other = resolve(client, seed, customer_id=seed.bob)
    assert client.get(f"/my/tickets/{other}/survey").status_code == 404  # not alice's request
    client.cookies.clear()
    login(client, "agent_a", "agent_a-password")
    assert 'id="rate-link"' not in client.get(f"/tickets/{other}").text  # staff do not rate for the customer


def test_the_worker_sends_each_renewal_reminder_once(client: TestClient, wired: App, clock: FrozenClock,
                                                     plans: Seed) -> None:  # noqa: F811 - the fixture
    """Renewal reminders (recorded by the renewal run) go out as SMS with the change-or-cancel link, once."""
    subscribe(client, plans, auto_renew=True, terms_version="1")
    clock.advance(days=27)  # a monthly plan: renews in 3 days, within the 5-day reminder window
    assert "reminders queued 1" in renewal_job(wired.uows, clock, "https://fd.example")
    assert "reminders queued 0" in renewal_job(wired.uows, clock, "https://fd.example")
    with wired.engine.connect() as conn:
        [sms] = conn.execute(sa.select(t.outbox).where(t.outbox.c.kind == "renewal_reminder")).all()
    assert sms.transport == "sms" and "基础" in sms.body and "https://fd.example/my/plans" in sms.body


def test_the_survey_page_asks_in_stars_and_names_the_technician(client: TestClient, seed: Seed, wired: App) -> None:
    from tests.integration.field import make_field

    field = make_field(wired, seed)
    resolve(client, seed)
    token = token_sent(wired)
    with wired.engine.begin() as conn:  # as if the technician had done the visit
        conn.execute(sa.update(t.surveys).values(technician_id=field.wang))
    page = client.get(f"/s/{token}")
    assert page.text.count('name="csat"') == 5 and 'class="stars"' in page.text and "5 星" in page.text
    names = wired.uows(readonly=True)
    with names as uow:
        name = uow.technicians.names([field.wang])[field.wang][1]
    assert name and f"{name}的服务怎么样？" in page.text and page.text.count('name="technician_rating"') == 5
