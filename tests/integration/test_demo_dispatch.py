"""The issue's bar: a repair ticket for any demo address is dispatched to an eligible technician with parts
reserved, in one call — for every place on the reference brand's service-area list."""

from __future__ import annotations

from importlib import resources

from fairdesk.bootstrap import App
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Channel
from fairdesk.entrypoints.cli.demo_data import DEMO_BRAND, load_demo
from fairdesk.reference.regions_data import default_resolver
from fairdesk.services import customers as customer_svc
from fairdesk.services import dispatch, parts, tickets
from fairdesk.services.network import split_area_list


def test_every_demo_place_gets_a_certified_technician_and_its_part_in_one_call(wired: App) -> None:
    assert load_demo(wired)
    with wired.uows(readonly=True) as uow:
        brand = uow.brands.by_code(DEMO_BRAND)
    manager = Actor(brand.id, Role.MANAGER, label="test")
    dispatcher = Actor(brand.id, Role.DISPATCHER, label="test-dispatcher")
    text = (resources.files("fairdesk") / "data" / "reference_service_areas.txt").read_text("utf-8")
    places = list(dict.fromkeys(split_area_list(text)))
    assert len(places) == 380
    booked = set()
    resolver = default_resolver()
    for i, place in enumerate(places):
        customer = customer_svc.create_customer(customer_svc.CreateCustomer(
            manager, f"客户{i}", [f"1390000{i:04d}"], [f"{place}人民路{i + 1}号"]), wired.uows(), wired.clock)
        unit = customer_svc.register_unit(customer_svc.RegisterUnit(manager, customer.id, "AG-3050",
                                                                    f"T-{i:05d}"), wired.uows())
        ticket, _ = tickets.open_ticket(tickets.OpenTicket(
            dispatcher, customer.id, Channel.HOTLINE, Category.REPAIR, "无法开箱", unit_id=unit.id,
            address_id=customer.addresses[0].id), wired.uows, wired.clock)
        visit = dispatch.book(dispatch.Booking(dispatcher, ticket.id, parts=(dispatch.PartRequest("LOCK-3050"),)),
                              wired.uows, wired.clock)
        assert visit["status"] == "booked" and visit["parts"][0]["status"] == "held", place
        # The technician works at an outlet covering the place (for the one place known only to its city, 中山市
        # 东升镇, an outlet covering part of that city) and holds a valid home-safe certificate.
        code = resolver.resolve(place).adcode
        with wired.uows(readonly=True) as uow:
            covering = set(uow.outlets.coverage_on_chain(brand.id, resolver.table.chain(code))) or set(
                uow.outlets.coverage_on_chain(brand.id, [d.code for d in resolver.table.children(code)]))
        assert visit["outlet_id"] in covering, place
        booked.add(visit["technician_id"])
    assert len(booked) > 50  # spread over the network, not one technician
    assert parts.verify(wired.uows(readonly=True), manager)["ok"]
