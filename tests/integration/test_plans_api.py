"""Subscriptions through the API on SQLite and PostgreSQL: the whole change journey, parity, renewals."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.domain.errors import Conflict
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.plans import BillingPeriod, Catalogue, ChangePolicy, Plan, PlanFamily
from fairdesk.services import plans as plans_svc
from tests.conftest import Seed
from tests.fakes import FrozenClock

KILLBILL = Path(__file__).resolve().parents[1] / "data" / "killbill"


def catalogue(policy: ChangePolicy = ChangePolicy.IMMEDIATE, period: BillingPeriod = BillingPeriod.MONTH) -> Catalogue:
    family = PlanFamily("care", "安心保", policy, save_offer="留下来，下月 9 折")
    plans = [Plan("basic", "care", "基础", Decimal("10.00"), period),
             Plan("plus", "care", "升级", Decimal("20.00"), period),
             Plan("old", "care", "旧版", Decimal("5.00"), period, retired=True)]
    return Catalogue({"care": family}, {p.code: p for p in plans})


@pytest.fixture
def plans(wired: App, seed: Seed) -> Seed:
    plans_svc.import_catalogue(Actor(seed.brand_a, Role.MANAGER, label="t"), catalogue(), wired.uows())
    plans_svc.import_catalogue(Actor(seed.brand_b, Role.MANAGER, label="t"), Catalogue(
        {"x": PlanFamily("x", "X", ChangePolicy.IMMEDIATE)},
        {"theirs": Plan("theirs", "x", "Theirs", Decimal("1.00"), BillingPeriod.MONTH)}), wired.uows())
    return seed


def subscribe(client: TestClient, seed: Seed, who: str = "alice", plan: str = "basic", **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/subscriptions", headers=seed.auth(who), json={
        "customer_id": seed.alice, "plan": plan, "payment_method": "alipay", "channel": "web"} | extra)
    assert r.status_code == 201, r.text
    return r.json()


def change(client: TestClient, seed: Seed, sub: int, to: str | None, preview: bool = False, who: str = "alice",
           channel: str = "web") -> Any:
    return client.post(f"/api/v1/subscriptions/{sub}/changes", headers=seed.auth(who),
                       json={"to_plan": to, "preview": preview, "channel": channel})


class TestTheJourney:
    def test_preview_then_confirm_then_receipt_then_ledger(self, client: TestClient, plans: Seed,
                                                          clock: FrozenClock) -> None:
        sub = subscribe(client, plans, plan="plus")["id"]
        clock.advance(days=15)  # a 30-day November period: half of it left
        preview = change(client, plans, sub, "basic", preview=True).json()
        assert preview["kind"] == "downgrade" and preview["policy"] == "immediate"
        assert preview["effective_at"] == preview["submitted_at"]
        assert [ln["amount"] for ln in preview["lines"]] == ["-10.00", "5.00"] and preview["net"] == "-5.00"
        assert preview["save_offer"] == "留下来，下月 9 折" and preview["continue"]["body"]["preview"] is False
        again = change(client, plans, sub, "basic", preview=True).json()
        assert again["save_offer"] is None  # shown once, never repeated
        done = change(client, plans, sub, "basic")
        assert done.status_code == 201, done.text
        receipt = done.json()["receipt"]
        assert receipt["net"] == "-5.00" and receipt["refund_to"] == "alipay" and receipt["policy"] == "immediate"
        assert "12315" in receipt["complaint_routes"][0]
        stored = client.get(f"/api/v1/subscriptions/{sub}/changes/{receipt['change_id']}/receipt",
                            headers=plans.auth("alice")).json()
        assert stored == receipt
        view = client.get(f"/api/v1/subscriptions/{sub}", headers=plans.auth("alice")).json()
        assert view["plan"] == "basic"
        assert [(e["kind"], e["amount"]) for e in view["ledger"]] == [("charge", "20.00"), ("refund", "10.00"),
                                                                     ("charge", "5.00")]

    def test_a_cancel_refunds_the_unused_part_and_nothing_is_charged_after(self, client: TestClient, plans: Seed,
                                                                           clock: FrozenClock, wired: App) -> None:
        sub = subscribe(client, plans, plan="basic")["id"]
        clock.advance(days=15)
        r = change(client, plans, sub, None)
        assert r.status_code == 201 and r.json()["kind"] == "cancel" and r.json()["net"] == "-5.00"
        clock.advance(days=60)
        run = plans_svc.run_renewals(wired.uows, clock)
        assert run.renewed == 0
        view = client.get(f"/api/v1/subscriptions/{sub}", headers=plans.auth("alice")).json()
        assert view["status"] == "cancelled" and [e["kind"] for e in view["ledger"]] == ["charge", "refund"]


class TestParity:
    @pytest.mark.parametrize(("who", "channel"), [("alice", "web"), ("alice", "api"), ("agent_a", "hotline"),
                                                 ("agent_a", "chat")])
    def test_every_channel_that_upgrades_also_downgrades_and_cancels_in_one_call(
            self, client: TestClient, plans: Seed, who: str, channel: str) -> None:
        sub = subscribe(client, plans, plan="basic")["id"]
        up = change(client, plans, sub, "plus", who=who, channel=channel)
        down = change(client, plans, sub, "basic", who=who, channel=channel)
        out = change(client, plans, sub, None, who=who, channel=channel)
        assert [r.status_code for r in (up, down, out)] == [201, 201, 201]
        assert [r.json()["policy"] for r in (up, down, out)] == ["immediate"] * 3
        assert up.json()["net"] == str(-Decimal(down.json()["net"]))  # mirror amounts at one moment


class TestBadInput:
    @pytest.mark.parametrize(("to", "status", "code"), [
        ("basic", 409, "plan.same_plan"), ("old", 409, "plan.retired"), ("theirs", 422, "plan.not_found"),
        ("nope", 422, "plan.not_found")])
    def test_refused_targets_change_nothing(self, client: TestClient, plans: Seed, to: str, status: int,
                                            code: str) -> None:
        sub = subscribe(client, plans, plan="basic")["id"]
        r = change(client, plans, sub, to)
        assert (r.status_code, r.json()["code"]) == (status, code)
        view = client.get(f"/api/v1/subscriptions/{sub}", headers=plans.auth("alice")).json()
        assert view["plan"] == "basic" and len(view["ledger"]) == 1

    def test_other_peoples_subscriptions_are_not_found(self, client: TestClient, plans: Seed) -> None:
        sub = subscribe(client, plans)["id"]
        assert change(client, plans, sub, "plus", who="bob").status_code == 404
        assert change(client, plans, sub, "plus", who="agent_b").status_code == 404
        assert client.get(f"/api/v1/subscriptions/{sub}", headers=plans.auth("bob")).status_code == 404

    def test_auto_renewal_needs_a_recorded_consent(self, client: TestClient, plans: Seed) -> None:
        r = client.post("/api/v1/subscriptions", headers=plans.auth("alice"), json={
            "customer_id": plans.alice, "plan": "basic", "payment_method": "alipay", "auto_renew": True})
        assert r.status_code == 422 and r.json()["code"] == "plan.consent_required"
        assert subscribe(client, plans, auto_renew=True, terms_version="1")["auto_renew"] is True

    def test_an_unknown_channel_is_refused(self, client: TestClient, plans: Seed) -> None:
        sub = subscribe(client, plans)["id"]
        assert change(client, plans, sub, "plus", channel="fax").json()["code"] == "plan.channel"

    def test_racing_changes_apply_once(self, client: TestClient, plans: Seed) -> None:
        sub = subscribe(client, plans)["id"]
        codes: list[int] = []
        threads = [threading.Thread(target=lambda: codes.append(change(client, plans, sub, "plus").status_code))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [201, 409, 409, 409]
        view = client.get(f"/api/v1/subscriptions/{sub}", headers=plans.auth("alice")).json()
        assert view["plan"] == "plus" and len(view["ledger"]) == 3  # first charge, one refund, one charge


class TestCatalogueImport:
    def test_an_asymmetric_catalogue_is_refused_unless_normalised(self, client: TestClient, seed: Seed) -> None:
        xml = (KILLBILL / "plan-change-timing.xml").read_text()
        r = client.post("/api/v1/plans/import", headers=seed.auth("manager_a"), json={"killbill_xml": xml})
        assert r.status_code == 422 and r.json()["code"] == "catalogue.asymmetric"
        assert client.get("/api/v1/plans", headers=seed.auth("manager_a")).json()["plans"] == []
        r = client.post("/api/v1/plans/import", headers=seed.auth("manager_a"),
                        json={"killbill_xml": xml, "normalise": True})
        assert r.status_code == 200 and r.json()["normalised"]
        families = client.get("/api/v1/plans", headers=seed.auth("manager_a")).json()["families"]
        assert families == [{"code": "base", "name": "ExampleCatalog BASE", "change_policy": "immediate"}]

    def test_prices_with_more_than_two_decimals_are_refused(self, client: TestClient, seed: Seed) -> None:
        xml = (KILLBILL / "monthly-and-annual-plan.xml").read_text().replace("24.95", "24.955")
        r = client.post("/api/v1/plans/import", headers=seed.auth("manager_a"), json={"killbill_xml": xml})
        assert r.status_code == 422 and r.json()["code"] == "money.precision"


class TestRenewals:
    def test_renewal_charges_each_period_once_and_reminds_five_days_before(self, client: TestClient, plans: Seed,
                                                                           clock: FrozenClock, wired: App) -> None:
        sub = subscribe(client, plans, auto_renew=True, terms_version="1")["id"]
        clock.advance(days=24)  # 24 Nov + 24 days: within 5 days of the 24 Dec renewal? not yet (6 days)
        assert plans_svc.run_renewals(wired.uows, clock).reminded == 0
        clock.advance(days=2)
        assert plans_svc.run_renewals(wired.uows, clock).reminded == 1
        assert plans_svc.run_renewals(wired.uows, clock).reminded == 0  # once per period
        clock.advance(days=4, seconds=1)
        run = plans_svc.run_renewals(wired.uows, clock)
        assert (run.renewed, run.charged) == (1, Decimal("10.00"))
        assert plans_svc.run_renewals(wired.uows, clock).renewed == 0
        view = client.get(f"/api/v1/subscriptions/{sub}", headers=plans.auth("alice")).json()
        assert view["period_start"].startswith("2026-12-24") and view["period_end"].startswith("2027-01-24")
        assert [e["amount"] for e in view["ledger"]] == ["10.00", "10.00"]

    def test_a_next_cycle_family_changes_at_the_renewal(self, client: TestClient, seed: Seed, wired: App,
                                                        clock: FrozenClock) -> None:
        plans_svc.import_catalogue(Actor(seed.brand_a, Role.MANAGER, label="t"),
                                   catalogue(ChangePolicy.NEXT_CYCLE), wired.uows())
        sub = subscribe(client, seed, plan="plus", auto_renew=True, terms_version="1")["id"]
        r = change(client, seed, sub, "basic")
        assert r.json()["net"] == "0.00" and r.json()["effective_at"].startswith("2026-12-24")
        clock.advance(days=31)
        plans_svc.run_renewals(wired.uows, clock)
        view = client.get(f"/api/v1/subscriptions/{sub}", headers=seed.auth("alice")).json()
        assert view["plan"] == "basic" and [e["amount"] for e in view["ledger"]] == ["20.00", "10.00"]


def test_a_scheduled_cancellation_can_be_withdrawn_in_one_action(client: TestClient, seed: Seed, wired: App,
                                                                  clock: FrozenClock) -> None:
    plans_svc.import_catalogue(Actor(seed.brand_a, Role.MANAGER, label="t"), catalogue(ChangePolicy.NEXT_CYCLE),
                               wired.uows())
    sub = subscribe(client, seed, auto_renew=True, terms_version="1")["id"]
    assert change(client, seed, sub, None).json()["net"] == "0.00"
    r = client.post(f"/api/v1/subscriptions/{sub}/resume", headers=seed.auth("alice"))
    assert r.status_code == 200 and r.json()["cancel_at_period_end"] is False and r.json()["auto_renew"] is True
    again = client.post(f"/api/v1/subscriptions/{sub}/resume", headers=seed.auth("alice"))
    assert again.status_code == 409 and again.json()["code"] == "subscription.nothing_scheduled"


def test_a_subscribed_plans_price_cannot_be_changed_silently(client: TestClient, plans: Seed, wired: App) -> None:
    subscribe(client, plans, plan="basic")
    dearer = catalogue()
    dearer.plans["basic"] = Plan("basic", "care", "基础", Decimal("12.00"), BillingPeriod.MONTH)
    with pytest.raises(Conflict):
        plans_svc.import_catalogue(Actor(plans.brand_a, Role.MANAGER, label="t"), dearer, wired.uows())
    assert client.get("/api/v1/plans", headers=plans.auth("alice")).json()["plans"][0]["price"] == "10.00"


def test_the_same_journey_through_the_cli(client: TestClient, plans: Seed, db_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from fairdesk.entrypoints.cli.main import app as cli
    from tests.conftest import SECRET

    monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
    sub = subscribe(client, plans, plan="plus")["id"]
    runner = CliRunner()
    base = ["plans", "change", str(sub), "--brand", "angu", "--as", "agent_a", "--json"]
    preview = json.loads(runner.invoke(cli, [*base, "--to", "basic", "--preview"]).stdout)
    assert preview["kind"] == "downgrade" and preview["receipt"] is None and preview["save_offer"]
    done = json.loads(runner.invoke(cli, [*base, "--to", "basic"]).stdout)
    assert done["receipt"]["channel"] == "hotline" and done["receipt"]["to_plan"] == "basic"
    out = runner.invoke(cli, [*base, "--cancel"])
    assert out.exit_code == 0 and json.loads(out.stdout)["kind"] == "cancel"
    again = runner.invoke(cli, [*base, "--cancel"])
    assert again.exit_code == 2 and "subscription.ended" in again.stderr


def test_previews_at_the_same_instant_all_answer(client: TestClient, plans: Seed) -> None:
    """Many previews of one subscription at once (each counts a step under the row's version): none fails."""
    import threading

    seed = plans
    sub = subscribe(client, seed)["id"]
    codes: list[int] = []

    def preview() -> None:
        codes.append(change(client, seed, sub, "plus", preview=True).status_code)

    threads = [threading.Thread(target=preview) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert codes == [200] * 8
