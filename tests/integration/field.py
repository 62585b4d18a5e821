"""A small field network on top of the shared seed: one outlet covering 漳浦县 (alice's county), another
covering 中原区 (郑州), technicians with certificates, a warehouse, an outlet store, a van, and parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fairdesk.bootstrap import App
from fairdesk.domain.parts import LocationKind, MovementKind
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Channel, Priority
from fairdesk.reference.regions_data import default_resolver
from fairdesk.services import network, parts, tickets, workforce
from tests.conftest import Seed

ZHANGPU = "350623"


@dataclass
class Field:
    manager: Actor
    dispatcher: Actor
    outlet: str
    wang: int  # certified for home-safe until 2027-12-31, works Monday-Saturday
    li: int  # certified, but his certificate ended 2026-10-31
    zhao: int  # at the other outlet (郑州), certified
    ticket: int  # alice's repair ticket on her AG-3050 at 漳浦县


def make_field(wired: App, seed: Seed, *, priority: Priority = Priority.NORMAL) -> Field:
    uows, clock = wired.uows, wired.clock
    manager = Actor(brand_id=seed.brand_a, role=Role.MANAGER, label="test-manager")
    dispatcher = Actor(brand_id=seed.brand_a, role=Role.DISPATCHER, label="test-dispatcher")
    resolver = default_resolver()
    network.create_outlet(network.CreateOutlet(manager, "ZP-01", "漳浦服务网点", "福建省漳州市漳浦县绥安镇",
                                               latitude=24.117, longitude=117.614), uows(), clock, resolver)
    network.import_areas(manager, "ZP-01", "漳浦县", uows(), resolver)
    network.create_outlet(network.CreateOutlet(manager, "ZZ-01", "郑州服务网点", "河南省郑州市中原区"),
                          uows(), clock, resolver)
    network.import_areas(manager, "ZZ-01", "中原区", uows(), resolver)
    ids = {}
    for username, outlet, home, weekdays in (("wang", "ZP-01", (24.12, 117.62), "1-6"),
                                             ("li", "ZP-01", (24.20, 117.70), "1-7"),
                                             ("zhao", "ZZ-01", None, "1-5")):
        t = workforce.add_technician(workforce.AddTechnician(
            manager, username, username.title(), outlet, weekdays=weekdays,
            home_latitude=home[0] if home else None, home_longitude=home[1] if home else None), uows(), clock)
        ids[username] = t.user_id
    workforce.add_certification(manager, ids["wang"], "home-safe", 2, date(2025, 1, 1), date(2027, 12, 31),
                                "CERT-W", uows(), clock)
    workforce.add_certification(manager, ids["li"], "home-safe", 3, date(2024, 1, 1), date(2026, 10, 31),
                                "CERT-L", uows(), clock)
    workforce.add_certification(manager, ids["zhao"], "home-safe", 1, date(2025, 1, 1), date(2027, 12, 31),
                                "CERT-Z", uows(), clock)
    parts.add_part(manager, "LOCK-3050", "3050 电子锁总成", uows(), clock, unit_cost="120.00", models=["AG-3050"])
    parts.add_part(manager, "BAT-AA", "5 号碱性电池", uows(), clock, unit_cost="2.50")
    parts.add_part(manager, "PANEL-3050", "3050 密码面板", uows(), clock, serialized=True, unit_cost="260.00",
                   models=["AG-3050"])
    parts.add_location(manager, "WH-FJ", "福建仓", LocationKind.WAREHOUSE, uows(), clock)
    parts.add_location(manager, "ZP-STORE", "漳浦网点库", LocationKind.OUTLET, uows(), clock, outlet_code="ZP-01")
    parts.add_location(manager, "VAN-WANG", "王师傅车", LocationKind.VAN, uows(), clock, technician_id=ids["wang"])
    for sku, qty, to, serials in (("LOCK-3050", 1, "ZP-STORE", ()), ("BAT-AA", 40, "VAN-WANG", ()),
                                  ("PANEL-3050", 2, "WH-FJ", ("P-0001", "P-0002"))):
        parts.move_stock(parts.Move(manager, MovementKind.RECEIVE, sku, qty, to_location=to, serials=serials),
                         uows(), clock)
    with uows(readonly=True) as uow:
        address_id = uow.customers.get(seed.brand_a, seed.alice).addresses[0].id
    ticket, _ = tickets.open_ticket(tickets.OpenTicket(
        dispatcher, seed.alice, Channel.HOTLINE, Category.REPAIR, "密码面板无反应", priority=priority,
        unit_id=seed.alice_unit, address_id=address_id), uows, clock)
    return Field(manager, dispatcher, "ZP-01", ids["wang"], ids["li"], ids["zhao"], ticket.id)
