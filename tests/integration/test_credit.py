"""The service-credit score on SQLite and PostgreSQL: computed from real surveys and complaints, published with
its parts, reproducible from its stored inputs by the calculation docs/credit.md describes, with a history and
audited inputs."""

from __future__ import annotations

import math
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.entrypoints.cli.main import app as cli_app
from fairdesk.services.worker import PERIODIC
from tests.conftest import SECRET, Seed
from tests.fakes import FrozenClock
from tests.integration.test_complaints import act, file
from tests.integration.test_surveys import answer, resolve, token_sent


def documented_score(x: dict[str, Any], p: dict[str, float]) -> float:
    """docs/credit.md, "The parts" and "Total and grade", transcribed independently of domain/credit.py."""
    m_r, m_t, m_c, z, h = 30, 1000, 20, 1.0, 10.0

    def se(sd: float, n: int, m: int) -> float:
        return sd / math.sqrt(n + m)

    def b(q: float) -> float:
        return math.sqrt(q * (1 - q))

    def clip(v: float) -> float:
        return min(1.0, max(0.0, v))

    csat = ((x["csat_sum"] + m_r * p["csat"]) / (x["ratings"] + m_r) - z * se(p["csat_sd"], x["ratings"], m_r) - 1) / 4
    nps = ((x["promoters"] - x["detractors"] + m_r * p["nps"]) / (x["nps_answers"] + m_r)
           - z * se(p["nps_sd"], x["nps_answers"], m_r) + 1) / 2
    r = ((x["complaints"] + m_t * p["complaint_rate"]) / (x["tickets"] + m_t)
         + z * se(b(p["complaint_rate"]), x["tickets"], m_t))
    rate = 1 / (1 + 1000 * r / h)
    on_time = ((x["on_time"] + m_c * p["on_time"]) / (x["response_due"] + m_c)
               - z * se(b(p["on_time"]), x["response_due"], m_c))
    confirmed = ((x["confirmed"] + m_c * p["confirmed"]) / (x["ended"] + m_c)
                 - z * se(b(p["confirmed"]), x["ended"], m_c))
    repeat = 1 - ((x["repeat"] + m_c * p["repeat"]) / (x["complaints"] + m_c)
                  + z * se(b(p["repeat"]), x["complaints"], m_c))
    points = (30 * clip(csat) + 10 * clip(nps) + 20 * clip(rate) + 15 * clip(on_time) + 15 * clip(confirmed)
              + 10 * clip(repeat))
    return round(min(100.0, max(0.0, points)), 1)


@pytest.fixture
def history(client: TestClient, seed: Seed, wired: App, clock: FrozenClock) -> Seed:
    """Brand A: six rated repairs and four complaints with different fates; brand B: nothing yet."""
    for csat, nps in ((5, 10), (5, 9), (4, 8), (4, 9), (2, 3), (5, 10)):
        resolve(client, seed)
        assert answer(client, token_sent(wired), csat=csat, nps=nps).status_code == 200
    answered = file(client, seed, "alice").json()["id"]
    act(client, seed, answered, "respond", note="明天上门")
    act(client, seed, answered, "confirm", "alice")
    file(client, seed, "bob", category="refund")  # never answered: its 24 hours will pass
    late = file(client, seed, "alice", category="parts").json()["id"]
    rejected = file(client, seed, "bob", category="billing").json()["id"]
    act(client, seed, rejected, "reject", reason="duplicate", note="与上一单重复")
    clock.advance(days=20)
    act(client, seed, late, "respond", note="配件已到")  # after its 15 days
    return seed


def test_the_score_is_reproducible_from_its_inputs_by_the_documented_calculation(
        client: TestClient, history: Seed, wired: App) -> None:
    seed = history
    stored = client.post("/api/v1/credit/compute", headers=seed.auth("manager_a"))
    assert stored.status_code == 200 and stored.json()["stored"] >= 2
    out = client.get("/api/v1/credit/angu").json()
    score = out["score"]
    x, p = score["inputs"], score["priors"]
    # The inputs are the records, counted independently here.
    with wired.engine.connect() as conn:
        s = t.surveys.c
        rated = conn.execute(sa.select(s.csat, s.nps).where(s.brand_id == seed.brand_a, s.csat.is_not(None))).all()
    assert x["ratings"] == 6 and x["csat_sum"] == sum(r.csat for r in rated) == 25
    assert (x["promoters"], x["detractors"], x["nps_answers"]) == (4, 1, 6)
    assert (x["tickets"], x["complaints"], x["response_due"], x["on_time"]) == (6, 4, 4, 2)
    assert (x["ended"], x["confirmed"], x["repeat"]) == (2, 1, 2)
    # Brand B has no records: the priors are brand A's figures steadied by the documented defaults.
    assert p["csat"] == pytest.approx((25 + 30 * 4.0) / (6 + 30))
    assert p["complaint_rate"] == pytest.approx((4 + 1000 * 0.01) / (6 + 1000))
    assert p["csat_sd"] == pytest.approx(math.sqrt((111 + 30 * 17) / 36 - p["csat"] ** 2))
    assert score["score"] == documented_score(x, p)
    assert sum(part["points"] for part in score["parts"]) == pytest.approx(score["score"], abs=0.06)
    explained = client.get("/api/v1/credit/angu/explain").json()
    assert explained["score"] == score["score"] and "(25 + 30×4.0278) / 36" in explained["parts"][0]["calculation"]
    assert explained["calculation"].endswith(f"→ {score['score']} ({score['grade']})")
    assert client.get("/api/v1/credit/method").json()["w_csat"] == 30
    empty = client.get("/api/v1/credit/other").json()["score"]
    assert empty["inputs"]["ratings"] == 0 and empty["score"] == documented_score(empty["inputs"], p)
    assert client.get("/api/v1/credit/nope").status_code == 404


def test_history_by_month_and_the_inputs_behind_a_part_for_auditors(
        client: TestClient, history: Seed, wired: App, clock: FrozenClock) -> None:
    seed = history
    job = PERIODIC["credit.scores"][1]
    assert job(wired.uows, clock, "").startswith("scores stored")
    clock.advance(days=31)
    job(wired.uows, clock, "")
    job(wired.uows, clock, "")  # the month's figure is replaced, not added
    out = client.get("/api/v1/credit/angu").json()
    assert [h["period"] for h in out["history"]] == ["2026-12", "2027-01"]
    old = client.get("/api/v1/credit/angu/explain?period=2026-12").json()
    assert old["period"] == "2026-12"
    rows = client.get("/api/v1/credit/angu/inputs?component=csat", headers=seed.auth("manager_a")).json()
    assert len(rows["records"]) == rows["inputs"]["ratings"] == 6
    comp = client.get("/api/v1/credit/angu/inputs?component=on_time_response", headers=seed.auth("auditor_a")).json()
    assert len(comp["records"]) == 4 and {r["number"][:2] for r in comp["records"]} == {"TS"}
    assert client.get("/api/v1/credit/angu/inputs?component=csat", headers=seed.auth("agent_a")).status_code == 403
    assert client.get("/api/v1/credit/angu/inputs?component=csat", headers=seed.auth("alice")).status_code == 404
    bad = client.get("/api/v1/credit/angu/inputs?component=luck", headers=seed.auth("manager_a"))
    assert bad.status_code == 422 and bad.json()["code"] == "credit.component"


def test_credit_and_complaint_commands(history: Seed, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli_app, list(args))
        assert result.exit_code == code, (args, result.output)
        return result.stdout if code == 0 else result.stderr

    assert "no score yet" in run("credit", "show", "--brand", "angu")
    assert "scores stored" in run("credit", "compute")
    shown = run("credit", "show", "--brand", "angu")
    assert "csat" in shown and "history:" in shown
    assert "total:" in run("credit", "explain", "--brand", "angu")
    assert "credit.not_found" in run("credit", "explain", "--brand", "angu", "--outlet", "X", code=2)
    queue = run("complaints", "list", "--brand", "angu")
    assert queue.splitlines()[1].split()[1] == "yes"  # the green channel first
    filed = run("complaints", "file", "--brand", "angu", "--customer", str(history.alice), "--category", "other",
                "--request", "说明", "--facts", "坏", code=2)
    assert "complaint.facts_required" in filed
    assert "green channel" in run("complaints", "stats", "--brand", "angu")
