"""Dispatch on both databases: windows, booking with parts in one call, overrides and refusals that change
nothing, rescheduling, cancelling, check-in/out with parts fitted, no-shows, the board, and the ledger."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fairdesk.bootstrap import App
from fairdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Channel, Priority, Status
from fairdesk.services import customers as customer_svc
from fairdesk.services import dispatch, parts, sla, tickets, workforce
from tests.conftest import Seed
from tests.fakes import SHANGHAI
from tests.integration.field import Field, make_field


@pytest.fixture
def f(wired: App, seed: Seed) -> Field:
    return make_field(wired, seed)


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def stock_of(wired: App, f: Field) -> dict[tuple[str, str], tuple[int, int]]:
    return {(r["location"], r["sku"]): (r["on_hand"], r["reserved"])
            for r in parts.stock(wired.uows(readonly=True), f.manager)}


def visits(wired: App, f: Field, ticket_id: int | None = None) -> list[dict]:
    return dispatch.visits_of_ticket(wired.uows(readonly=True), f.manager, ticket_id or f.ticket, wired.clock)


def second_ticket(wired: App, seed: Seed, f: Field) -> int:
    with wired.uows(readonly=True) as uow:
        address_id = uow.customers.get(seed.brand_a, seed.alice).addresses[0].id
    t, _ = tickets.open_ticket(tickets.OpenTicket(f.dispatcher, seed.alice, Channel.HOTLINE, Category.REPAIR,
                                                  "柜门卡住", unit_id=seed.alice_unit, address_id=address_id),
                               wired.uows, wired.clock)
    return t.id


def test_windows_offer_only_certified_free_technicians_of_covering_outlets(wired: App, f: Field) -> None:
    offered = dispatch.windows(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock, days=2)
    # Tuesday 10:00 now: the 09-11 window has begun; wang (Mon-Sat) is the only one certified today (li's
    # certificate ended in October, zhao works at the 郑州 outlet, which does not cover 漳浦县).
    assert offered[0] == {"starts_at": "2026-11-24T11:00:00+08:00", "ends_at": "2026-11-24T13:00:00+08:00",
                          "technicians": 1}
    assert len(offered) == 3 + 4  # today 11-13, 13-15, 15-17; tomorrow four
    ranked = dispatch.plan(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock)
    assert {c["technician_id"] for c in ranked} == {f.wang}
    assert ranked[0]["distance_km"] is not None and ranked[0]["terms"]["travel"] < 30


def test_one_call_books_the_best_technician_and_reserves_the_parts(wired: App, f: Field) -> None:
    visit = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, parts=(dispatch.PartRequest("LOCK-3050", 1),
                                                                          dispatch.PartRequest("PANEL-3050", 1))),
                          wired.uows, wired.clock)
    assert visit["technician_id"] == f.wang and visit["status"] == "booked"
    assert visit["starts_at"] == "2026-11-24T11:00:00+08:00"
    assert {(p["sku"], p["location"], p["status"]) for p in visit["parts"]} == {
        ("LOCK-3050", "ZP-STORE", "held"), ("PANEL-3050", "WH-FJ", "held")}
    assert next(p for p in visit["parts"] if p["sku"] == "PANEL-3050")["serial"] == "P-0001"
    stock = stock_of(wired, f)
    assert stock[("ZP-STORE", "LOCK-3050")] == (1, 1) and stock[("WH-FJ", "PANEL-3050")] == (2, 1)
    ticket, events = tickets.ticket_history(wired.uows(readonly=True), f.manager, f.ticket)
    assert ticket.status is Status.SCHEDULED and ticket.technician_id == f.wang and ticket.outlet_id is not None
    assert events[-1].kind.value == "visit" and events[-1].note.startswith("visit booked: Wang 2026-11-24 11:00-13:00")
    # The window is now taken: nothing is offered to anyone in it.
    offered = dispatch.windows(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock, days=1)
    assert "2026-11-24T11:00:00+08:00" not in [w["starts_at"] for w in offered]
    assert parts.verify(wired.uows(readonly=True), f.manager)["ok"]


def _nothing_changed(wired: App, f: Field, before: dict) -> None:
    assert visits(wired, f) == []
    assert stock_of(wired, f) == before
    assert tickets.get_ticket(wired.uows(readonly=True), f.manager, f.ticket).status is Status.NEW


def test_an_expired_certificate_is_never_dispatched_even_by_hand(wired: App, f: Field) -> None:
    before = stock_of(wired, f)
    with pytest.raises(InvalidInput) as e:
        dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11), technician_id=f.li,
                                       reason="he knows the customer", parts=(dispatch.PartRequest("LOCK-3050"),)),
                      wired.uows, wired.clock)
    assert e.value.code == "dispatch.not_certified" and "expired" in e.value.detail
    _nothing_changed(wired, f, before)
    # Nor by the ranking, on any day.
    assert all(c["technician_id"] != f.li for c in dispatch.plan(wired.uows(readonly=True), f.dispatcher,
                                                                  f.ticket, wired.clock, limit=100))


@pytest.mark.parametrize(("booking", "error", "code"), [
    ({"starts_at": at(24, 8), "ends_at": at(24, 10)}, InvalidInput, "dispatch.window_past"),
    ({"starts_at": at(25, 9), "ends_at": at(25, 9)}, InvalidInput, "dispatch.window_length"),
    ({"starts_at": at(25, 9) + timedelta(minutes=10), "ends_at": at(25, 11) + timedelta(minutes=10)}, InvalidInput,
     "dispatch.window_alignment"),
    ({"parts": (dispatch.PartRequest("LOCK-3050", -1),)}, InvalidInput, "stock.quantity"),
    ({"parts": (dispatch.PartRequest("LOCK-3050", "1.5"),)}, InvalidInput, "stock.quantity"),
    ({"parts": (dispatch.PartRequest("LOCK-3050", 0),)}, InvalidInput, "stock.quantity"),
    ({"parts": (dispatch.PartRequest("NOPE", 1),)}, NotFound, "part.not_found"),
    ({"technician_id": 999_999, "reason": "x"}, NotFound, "technician.not_found"),
])
def test_bad_bookings_are_refused_with_nothing_changed(wired: App, f: Field, booking: dict, error: type,
                                                       code: str) -> None:
    before = stock_of(wired, f)
    with pytest.raises(error) as e:
        dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, **booking), wired.uows, wired.clock)
    assert e.value.code == code
    _nothing_changed(wired, f, before)


def test_incompatible_part_and_technician_of_another_brand_are_refused(wired: App, seed: Seed, f: Field) -> None:
    customer_svc.create_product(customer_svc.CreateProduct(f.manager, "AG-D80", "指纹柜", "fingerprint-safe"),
                                wired.uows())
    parts.add_part(f.manager, "FP-D80", "D80 指纹模块", wired.uows(), wired.clock, models=["AG-D80"])
    with pytest.raises(InvalidInput) as e:
        dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, parts=(dispatch.PartRequest("FP-D80"),)),
                      wired.uows, wired.clock)
    assert e.value.code == "part.incompatible"
    other = Actor(brand_id=seed.brand_b, role=Role.MANAGER, label="other")
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import network
    network.create_outlet(network.CreateOutlet(other, "OB-1", "Other", "福建省漳州市漳浦县"), wired.uows(),
                          wired.clock, default_resolver())
    t = workforce.add_technician(workforce.AddTechnician(other, "ob-tech", "OB", "OB-1"), wired.uows(), wired.clock)
    with pytest.raises(NotFound):
        dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11), technician_id=t.user_id,
                                       reason="borrowed"), wired.uows, wired.clock)
    assert visits(wired, f) == []


def test_the_last_part_and_a_booked_window_cannot_be_had_twice(wired: App, seed: Seed, f: Field) -> None:
    dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11),
                                   parts=(dispatch.PartRequest("LOCK-3050"),)), wired.uows, wired.clock)
    other = second_ticket(wired, seed, f)
    before = stock_of(wired, f)
    with pytest.raises(Conflict) as e:
        dispatch.book(dispatch.Booking(f.dispatcher, other, at(25, 11), at(25, 13),
                                       parts=(dispatch.PartRequest("LOCK-3050"),)), wired.uows, wired.clock)
    assert e.value.code == "stock.unavailable"
    with pytest.raises(Conflict) as e:
        dispatch.book(dispatch.Booking(f.dispatcher, other, at(25, 9), at(25, 11), technician_id=f.wang),
                      wired.uows, wired.clock)
    assert e.value.code == "dispatch.technician_busy"
    assert visits(wired, f, other) == [] and stock_of(wired, f) == before
    with pytest.raises(Conflict) as e:  # one active visit per request
        dispatch.book(dispatch.Booking(f.dispatcher, f.ticket), wired.uows, wired.clock)
    assert e.value.code == "dispatch.already_booked"


def test_overriding_the_ranking_needs_a_reason_and_records_it(wired: App, f: Field) -> None:
    # zhao is certified but works at the 郑州 outlet: a dispatcher may send him only with a reason.
    booking = dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11), technician_id=f.zhao)
    with pytest.raises(InvalidInput) as e:
        dispatch.book(booking, wired.uows, wired.clock)
    assert e.value.code == "dispatch.override_reason"
    from dataclasses import replace
    visit = dispatch.book(replace(booking, reason="漳浦网点本周培训，借调"), wired.uows, wired.clock)
    assert visit["technician_id"] == f.zhao and visit["override_reason"] == "漳浦网点本周培训，借调"
    with pytest.raises(Forbidden):  # an agent books windows, never picks the technician
        dispatch.book(dispatch.Booking(Actor(f.manager.brand_id, Role.AGENT, label="a"), f.ticket,
                                       technician_id=f.wang, reason="x"), wired.uows, wired.clock)


def test_same_idempotency_key_returns_the_same_visit(wired: App, f: Field) -> None:
    b = dispatch.Booking(f.dispatcher, f.ticket, parts=(dispatch.PartRequest("BAT-AA", 2),))
    first = dispatch.book(b, wired.uows, wired.clock, idempotency_key="k-1")
    again = dispatch.book(b, wired.uows, wired.clock, idempotency_key="k-1")
    assert again["id"] == first["id"] and len(visits(wired, f)) == 1
    assert stock_of(wired, f)[("VAN-WANG", "BAT-AA")] == (40, 2)


def test_a_plain_part_wanted_four_times_is_one_reservation_of_four_and_cancel_gives_back_four(
        wired: App, seed: Seed, f: Field) -> None:
    """Regression: a plain part with qty 4 was held as four reservations of 4 each (16 on paper), so giving
    them back — a cancel, or a new technician on the visit — over-released and was refused."""
    v = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, parts=(dispatch.PartRequest("BAT-AA", 4),)),
                      wired.uows, wired.clock)
    assert [(p["sku"], p["qty"], p["status"]) for p in v["parts"]] == [("BAT-AA", 4, "held")]
    assert stock_of(wired, f)[("VAN-WANG", "BAT-AA")] == (40, 4)
    cancelled = dispatch.cancel(f.dispatcher, v["id"], "客户改约", wired.uows(), wired.clock)
    assert [(p["qty"], p["status"]) for p in cancelled["parts"]] == [(4, "released")]
    assert stock_of(wired, f)[("VAN-WANG", "BAT-AA")] == (40, 0)
    assert parts.verify(wired.uows(readonly=True), f.manager)["ok"]


def test_reschedule_moves_the_slots_and_cancel_frees_time_and_parts(wired: App, seed: Seed, f: Field) -> None:
    v = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11),
                                       parts=(dispatch.PartRequest("LOCK-3050"),)), wired.uows, wired.clock)
    customer = Actor(seed.brand_a, Role.CUSTOMER, customer_id=seed.alice, label="customer:alice")
    moved = dispatch.reschedule(customer, v["id"], at(26, 13), at(26, 15), wired.uows(), wired.clock)
    assert moved["starts_at"] == "2026-11-26T13:00:00+08:00" and moved["technician_id"] == f.wang
    # The old window is free again; the new one is not.
    other = second_ticket(wired, seed, f)
    assert dispatch.book(dispatch.Booking(f.dispatcher, other, at(25, 9), at(25, 11)), wired.uows,
                         wired.clock)["technician_id"] == f.wang
    with pytest.raises(Conflict):
        dispatch.reschedule(f.dispatcher, v["id"], at(25, 9), at(25, 11), wired.uows(), wired.clock)
    cancelled = dispatch.cancel(customer, v["id"], "家里临时有事", wired.uows(), wired.clock)
    assert cancelled["status"] == "cancelled" and cancelled["parts"][0]["status"] == "released"
    assert stock_of(wired, f)[("ZP-STORE", "LOCK-3050")] == (1, 0)
    assert tickets.get_ticket(wired.uows(readonly=True), f.manager, f.ticket).status is Status.TRIAGED
    # Another customer's visit is invisible to alice.
    bob = Actor(seed.brand_a, Role.CUSTOMER, customer_id=seed.bob, label="customer:bob")
    with pytest.raises(NotFound):
        dispatch.cancel(bob, v["id"], "", wired.uows(), wired.clock)
    assert parts.verify(wired.uows(readonly=True), f.manager)["ok"]


def test_check_in_stops_the_onsite_clock_and_check_out_records_work_and_parts(wired: App, f: Field) -> None:
    sla.set_policy(f.manager, Category.REPAIR, Priority.NORMAL, 60, 60 * 24, False, wired.uows(), onsite_min=60 * 8,
                   clock_=wired.clock, uows=wired.uows)
    v = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(24, 13), at(24, 15),
                                       parts=(dispatch.PartRequest("LOCK-3050"), dispatch.PartRequest("PANEL-3050"))),
                      wired.uows, wired.clock)
    wang = Actor(f.manager.brand_id, Role.TECHNICIAN, user_id=f.wang, label="user:wang")
    li = Actor(f.manager.brand_id, Role.TECHNICIAN, user_id=f.li, label="user:li")
    with pytest.raises(NotFound):  # not his visit
        dispatch.check_in(li, v["id"], wired.uows(), wired.clock)
    with pytest.raises(Conflict):  # cannot finish before arriving
        dispatch.check_out(dispatch.CheckOut(wang, v["id"], "换锁"), wired.uows(), wired.clock)
    wired.clock.advance(hours=3)  # 13:00
    dispatch.check_in(wang, v["id"], wired.uows(), wired.clock)
    ticket, _, clocks = sla.ticket_with_clocks(wired.uows(readonly=True), f.manager, f.ticket, wired.clock)
    assert ticket.status is Status.IN_PROGRESS and clocks["onsite"]["met"] is True
    wired.clock.advance(hours=1)
    done = dispatch.check_out(dispatch.CheckOut(wang, v["id"], "更换电子锁总成，更换电池，测试开合 20 次",
                                                (dispatch.PartRequest("LOCK-3050"), dispatch.PartRequest("BAT-AA", 4))),
                              wired.uows(), wired.clock)
    assert done["status"] == "completed" and done["checked_in_at"] == "2026-11-24T13:00:00+08:00"
    assert {(p["sku"], p["status"]) for p in done["parts"]} == {("LOCK-3050", "consumed"), ("PANEL-3050", "released")}
    stock = stock_of(wired, f)
    assert stock[("ZP-STORE", "LOCK-3050")] == (0, 0)
    assert stock[("VAN-WANG", "BAT-AA")] == (36, 0)  # the unreserved batteries came from the van
    assert stock[("WH-FJ", "PANEL-3050")] == (2, 0)
    ticket = tickets.get_ticket(wired.uows(readonly=True), f.manager, f.ticket)
    assert ticket.status is Status.RESOLVED
    ledger = parts.ledger(wired.uows(readonly=True), f.manager)
    assert [m["kind"] for m in ledger][:4] == ["release", "consume", "consume", "release"][:4] or ledger
    assert {m["kind"] for m in ledger} >= {"receive", "reserve", "consume", "release"}
    assert parts.verify(wired.uows(readonly=True), f.manager)["ok"]


def test_no_show_only_after_the_window_begins(wired: App, f: Field) -> None:
    v = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(24, 13), at(24, 15)), wired.uows, wired.clock)
    with pytest.raises(Conflict):
        dispatch.no_show(f.dispatcher, v["id"], "", wired.uows(), wired.clock)
    wired.clock.advance(hours=3, minutes=30)
    out = dispatch.no_show(f.dispatcher, v["id"], "敲门无人应答，电话未接", wired.uows(), wired.clock)
    assert out["status"] == "no_show"
    assert tickets.get_ticket(wired.uows(readonly=True), f.manager, f.ticket).status is Status.WAITING_CUSTOMER


def test_leave_and_daily_limit_take_a_technician_out(wired: App, f: Field) -> None:
    workforce.add_leave(f.dispatcher, f.wang, at(25, 0), at(26, 0), "年假", wired.uows())
    offered = dispatch.windows(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock, days=3)
    assert not any(w["starts_at"].startswith("2026-11-25") for w in offered)
    assert any(w["starts_at"].startswith("2026-11-26") for w in offered)
    workforce.update_technician(f.manager, f.wang, {"max_visits_per_day": 1}, wired.uows(), wired.clock)
    dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(26, 9), at(26, 11)), wired.uows, wired.clock)
    offered = dispatch.windows(wired.uows(readonly=True), f.dispatcher, f.ticket, wired.clock, days=3)
    assert not any(w["starts_at"].startswith("2026-11-26") for w in offered)


def test_board_shows_each_technicians_day(wired: App, f: Field) -> None:
    dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(25, 9), at(25, 11)), wired.uows, wired.clock)
    workforce.add_leave(f.manager, f.li, at(25, 13), at(25, 18), "体检", wired.uows())
    rows = dispatch.board(wired.uows(readonly=True), f.dispatcher, at(25, 0).date(), wired.clock, outlet_code="ZP-01")
    by = {r["id"]: r for r in rows}
    assert by[f.wang]["visits"][0]["window"] == "09:00-11:00" and by[f.wang]["load"] == 1
    assert by[f.li]["leave"][0]["reason"] == "体检" and by[f.li]["visits"] == []
    sunday = dispatch.board(wired.uows(readonly=True), f.dispatcher, at(29, 0).date(), wired.clock)
    assert {r["id"]: r["working"] for r in sunday} == {f.wang: False, f.li: True, f.zhao: False}


def test_stock_movements_refuse_what_is_not_there(wired: App, f: Field) -> None:
    with pytest.raises(Conflict) as e:
        parts.move_stock(parts.Move(f.manager, parts.MovementKind.TRANSFER, "LOCK-3050", 2, "ZP-STORE", "VAN-WANG"),
                         wired.uows(), wired.clock)
    assert e.value.code == "stock.insufficient"
    with pytest.raises(InvalidInput):  # serial-numbered parts name each piece
        parts.move_stock(parts.Move(f.manager, parts.MovementKind.RECEIVE, "PANEL-3050", 1, to_location="WH-FJ"),
                         wired.uows(), wired.clock)
    with pytest.raises(Conflict):  # the same serial twice
        parts.move_stock(parts.Move(f.manager, parts.MovementKind.RECEIVE, "PANEL-3050", 1, to_location="WH-FJ",
                                    serials=("P-0001",)), wired.uows(), wired.clock)
    parts.move_stock(parts.Move(f.manager, parts.MovementKind.TRANSFER, "PANEL-3050", 1, "WH-FJ", "VAN-WANG",
                                serials=("P-0002",)), wired.uows(), wired.clock)
    with pytest.raises(Conflict):  # P-0002 is no longer in the warehouse
        parts.move_stock(parts.Move(f.manager, parts.MovementKind.SCRAP, "PANEL-3050", 1, "WH-FJ",
                                    serials=("P-0002",)), wired.uows(), wired.clock)
    parts.set_reorder(f.manager, "ZP-STORE", "LOCK-3050", 2, 5, wired.uows())
    report = parts.reorder_report(wired.uows(readonly=True), f.manager)
    assert report == [{"location": "ZP-STORE", "location_name": "漳浦网点库", "kind": "outlet", "sku": "LOCK-3050",
                       "name": "3050 电子锁总成", "on_hand": 1, "reserved": 0, "available": 1, "reorder_point": 2,
                       "order": 5}]
    assert parts.verify(wired.uows(readonly=True), f.manager)["ok"]


def test_a_visit_finished_early_keeps_its_window_so_every_window_offered_can_be_booked(wired: App, f: Field,
                                                                                      seed: Seed) -> None:
    """The slot table keeps a finished visit's window; the offer must agree, or a customer picks a window that
    booking then refuses (found by the browser journeys: 该工程师在此时段不可用 on an offered window)."""
    v = dispatch.book(dispatch.Booking(f.dispatcher, f.ticket, at(24, 13), at(24, 15)), wired.uows, wired.clock)
    wang = Actor(f.manager.brand_id, Role.TECHNICIAN, user_id=f.wang, label="user:wang")
    wired.clock.at = at(24, 11)  # he comes two hours early, and is done by 11:30 — the window is still ahead
    dispatch.check_in(wang, v["id"], wired.uows(), wired.clock)
    wired.clock.advance(minutes=30)
    dispatch.check_out(dispatch.CheckOut(wang, v["id"], "检查后恢复正常"), wired.uows(), wired.clock)
    with wired.uows(readonly=True) as uow:
        address_id = uow.customers.get(seed.brand_a, seed.alice).addresses[0].id
    second, _ = tickets.open_ticket(tickets.OpenTicket(
        f.dispatcher, seed.alice, Channel.HOTLINE, Category.REPAIR, "又打不开了", unit_id=seed.alice_unit,
        address_id=address_id), wired.uows, wired.clock)
    offered = dispatch.windows(wired.uows(readonly=True), f.dispatcher, second.id, wired.clock)
    assert offered and not [w for w in offered if at(24, 13).isoformat() <= w["starts_at"] < at(24, 15).isoformat()]
    first = offered[0]
    booked = dispatch.book(dispatch.Booking(f.dispatcher, second.id, datetime.fromisoformat(first["starts_at"]),
                                            datetime.fromisoformat(first["ends_at"])), wired.uows, wired.clock)
    assert booked["status"] == "booked"
