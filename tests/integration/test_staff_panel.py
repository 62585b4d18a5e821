"""The staff's panel on a request's page (issue 19): the customer (phones masked by the privacy rule), the unit
and its warranty on the Shanghai day, the visit address as province → city → county and the outlet covering
it — or a plain "not resolved to a county"; never on the customer's own page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Channel
from fairdesk.i18n import t
from fairdesk.services import customers as customer_svc
from fairdesk.services import identity, tickets
from tests.conftest import Seed
from tests.fakes import FrozenClock
from tests.integration.field import make_field
from tests.integration.test_web import login


def panel_of(html: str) -> str:
    """The panel's HTML, or '' when the page has none."""
    m = re.search(r'<section class="card" id="staff-panel".*?</section>', html, re.S)
    return m.group(0) if m else ""


def field_of(panel: str, name: str) -> str:
    m = re.search(rf'<dd id="panel-{name}"[^>]*>(.*?)</dd>', panel, re.S)
    assert m, f"the panel has no {name}"
    return m.group(1)


def open_request(wired: App, seed: Seed, unit_id: int | None, address_id: int | None, customer_id: int | None = None
                 ) -> int:
    agent = Actor(brand_id=seed.brand_a, role=Role.AGENT, label="test-agent")
    ticket, _ = tickets.open_ticket(tickets.OpenTicket(
        agent, customer_id or seed.alice, Channel.HOTLINE, Category.REPAIR, "不能开锁", unit_id=unit_id,
        address_id=address_id), wired.uows, wired.clock)
    return ticket.id


class TestTheStaffPanel:
    def test_an_agent_sees_the_unit_the_warranty_the_county_and_the_covering_outlet_by_name(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        f = make_field(wired, seed)  # ZP-01 漳浦服务网点 covers 漳浦县, where alice's address is
        login(client, "agent_a", "agent_a-password")
        page = client.get(f"/tickets/{f.ticket}")
        assert page.status_code == 200
        panel = panel_of(page.text)
        assert panel, "the staff's page has the panel"
        assert "张丽" in field_of(panel, "customer")
        assert "AG-3050" in field_of(panel, "unit") and "家用保险柜" in field_of(panel, "unit")
        assert "SN-0001" in field_of(panel, "unit")
        assert 'data-warranty="unknown"' in panel  # the seed's unit has no warranty end date
        assert "福建省 → 漳州市 → 漳浦县" in field_of(panel, "address")
        assert 'id="panel-unresolved"' not in panel
        outlet = field_of(panel, "outlet")
        assert "漳浦服务网点" in outlet and "ZP-01" in outlet and "郑州服务网点" not in outlet

    def test_phones_are_masked_for_an_agent_not_handling_the_customer_and_full_for_a_dispatcher(
            self, client: TestClient, seed: Seed, wired: App) -> None:
        f = make_field(wired, seed)
        login(client, "agent_a", "agent_a-password")
        phone = field_of(panel_of(client.get(f"/tickets/{f.ticket}").text), "phone")
        assert "+86138****8000" in phone and "+8613800138000" not in phone
        identity.create_user(identity.CreateUser("angu", "disp", "吴调度", Role.DISPATCHER, "disp-password-123"),
                             wired.uows(), wired.clock)
        client.cookies.clear()
        login(client, "disp", "disp-password-123")
        assert "138 0013 8000" in field_of(panel_of(client.get(f"/tickets/{f.ticket}").text), "phone")

    def test_the_warranty_is_judged_on_the_shanghai_day(self, client: TestClient, seed: Seed, wired: App,
                                                       clock: FrozenClock) -> None:
        """At 01:00 on 24 November in Shanghai it is still the 23rd in UTC: a warranty that ended on the 23rd
        is over; one ending on the 24th still holds."""
        clock.at = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
        manager = Actor(brand_id=seed.brand_a, role=Role.MANAGER, label="seed")
        with wired.uows(readonly=True) as uow:
            address_id = uow.customers.get(seed.brand_a, seed.alice).addresses[0].id
        shown = {}
        for serial, end in (("SN-ENDED", date(2026, 11, 23)), ("SN-TODAY", date(2026, 11, 24))):
            unit = customer_svc.register_unit(customer_svc.RegisterUnit(
                manager, seed.alice, "AG-3050", serial, date(2024, 11, 24), end), wired.uows())
            shown[serial] = open_request(wired, seed, unit.id, address_id)
        login(client, "agent_a", "agent_a-password")
        ended = field_of(panel_of(client.get(f"/tickets/{shown['SN-ENDED']}").text), "warranty")
        today = field_of(panel_of(client.get(f"/tickets/{shown['SN-TODAY']}").text), "warranty")
        assert t("Out of warranty: the warranty ended on", "zh-CN") in ended and "2026-11-23" in ended
        assert t("In warranty until", "zh-CN") in today and "2026-11-24" in today
        assert "T" not in today and "+00:00" not in today and "UTC" not in today

    def test_an_address_not_resolved_to_a_county_says_so(self, client: TestClient, seed: Seed, wired: App) -> None:
        agent = Actor(brand_id=seed.brand_a, role=Role.AGENT, label="test-agent")
        nowhere = customer_svc.add_address(wired.uows(), agent, seed.bob, "人民路 88 号 3 栋", None)
        city_only = customer_svc.add_address(wired.uows(), agent, seed.bob, "福建省漳州市某某路 1 号", None)
        login(client, "agent_a", "agent_a-password")
        message = t("The address could not be resolved to a county", "zh-CN")
        for address, divisions in ((nowhere, None), (city_only, "福建省 → 漳州市")):
            panel = panel_of(client.get(f"/tickets/{open_request(wired, seed, None, address.id, seed.bob)}").text)
            assert 'id="panel-unresolved"' in panel and message in field_of(panel, "address")
            assert t("No unit on the request", "zh-CN") in field_of(panel, "unit")
            if divisions:
                assert divisions in field_of(panel, "address")

    def test_the_customers_own_page_has_no_staff_panel(self, client: TestClient, seed: Seed, wired: App) -> None:
        f = make_field(wired, seed)
        login(client, "alice", "alice-password")
        page = client.get(f"/tickets/{f.ticket}")
        assert page.status_code == 200 and "密码面板无反应" in page.text
        assert 'id="staff-panel"' not in page.text and "漳浦服务网点" not in page.text

    def test_reading_the_panel_is_on_the_customers_access_record(self, client: TestClient, seed: Seed,
                                                                 wired: App) -> None:
        f = make_field(wired, seed)
        login(client, "agent_a", "agent_a-password")
        client.get(f"/tickets/{f.ticket}")
        alice = Actor(brand_id=seed.brand_a, role=Role.CUSTOMER, customer_id=seed.alice, label="alice")
        reads = customer_svc.reads_of(wired.uows, alice, seed.alice, wired.clock)
        assert [(r["role"], r["what"]) for r in reads] == [("agent", "ticket")]
