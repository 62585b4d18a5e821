"""Races between real processes, on SQLite and on PostgreSQL: one technician's window is never booked twice,
and the last part is never reserved twice, however many dispatchers press the button at once."""

from __future__ import annotations

import multiprocessing as mp
from datetime import datetime

import sqlalchemy as sa

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from tests.conftest import SECRET, Seed
from tests.fakes import SHANGHAI
from tests.integration.field import make_field
from tests.integration.test_dispatch import second_ticket

RACERS = 6


def _book(url: str, brand_id: int, ticket_id: int, technician_id: int | None, start_hour: int, sku: str | None,
          barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:  # type: ignore[name-defined]
    from fairdesk.bootstrap import bootstrap
    from fairdesk.config import load_settings
    from fairdesk.domain.errors import DomainError
    from fairdesk.domain.people import Actor, Role
    from fairdesk.services import dispatch
    from tests.fakes import FrozenClock

    app = bootstrap(load_settings(database_url=url, secret_key=SECRET), clock=FrozenClock())
    actor = Actor(brand_id=brand_id, role=Role.DISPATCHER, label=f"racer:{ticket_id}")
    start = datetime(2026, 11, 25, start_hour, tzinfo=SHANGHAI)
    end = datetime(2026, 11, 25, start_hour + 2, tzinfo=SHANGHAI)
    booking = dispatch.Booking(actor, ticket_id, start, end, technician_id=technician_id,
                               parts=(dispatch.PartRequest(sku),) if sku else ())
    barrier.wait(timeout=60)
    try:
        visit = dispatch.book(booking, app.uows, app.clock)
        out.put(("ok", visit["id"]))
    except DomainError as exc:
        out.put(("refused", exc.code))
    except Exception as exc:  # anything else is a bug the test must show
        out.put(("error", repr(exc)))
    finally:
        app.dispose()


def _race(db_url: str, seed: Seed, tickets: list[int], technician_id: int | None, hours: list[int],
          sku: str | None) -> list[tuple[str, object]]:
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(tickets)), ctx.Queue()
    procs = [ctx.Process(target=_book, args=(db_url, seed.brand_a, ticket, technician_id, hour, sku, barrier, out))
             for ticket, hour in zip(tickets, hours, strict=True)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return results


def test_one_window_of_one_technician_is_booked_once(wired: App, seed: Seed, db_url: str) -> None:
    f = make_field(wired, seed)
    tickets = [f.ticket] + [second_ticket(wired, seed, f) for _ in range(RACERS - 1)]
    results = _race(db_url, seed, tickets, f.wang, [9] * RACERS, None)
    assert [r for r in results if r[0] == "error"] == []
    assert sum(1 for r in results if r[0] == "ok") == 1, results
    assert {r[1] for r in results if r[0] == "refused"} == {"dispatch.technician_busy"}
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        slots = conn.execute(sa.select(sa.func.count()).select_from(t.technician_slots)).scalar_one()
        booked = conn.execute(sa.select(sa.func.count()).select_from(t.visits)).scalar_one()
    engine.dispose()
    assert (slots, booked) == (4, 1)  # one two-hour visit, four half-hour slots, no leftovers of the losers


def test_auto_dispatch_racing_for_the_only_free_technician(wired: App, seed: Seed, db_url: str) -> None:
    f = make_field(wired, seed)
    tickets = [f.ticket] + [second_ticket(wired, seed, f) for _ in range(RACERS - 1)]
    results = _race(db_url, seed, tickets, None, [13] * RACERS, None)
    assert [r for r in results if r[0] == "error"] == []
    assert sum(1 for r in results if r[0] == "ok") == 1, results


def test_the_last_part_is_reserved_once(wired: App, seed: Seed, db_url: str) -> None:
    f = make_field(wired, seed)  # one LOCK-3050 in stock, at the 漳浦 outlet's store
    tickets = [f.ticket] + [second_ticket(wired, seed, f) for _ in range(3)]
    results = _race(db_url, seed, tickets, f.wang, [9, 11, 13, 15], "LOCK-3050")  # four different windows
    assert [r for r in results if r[0] == "error"] == []
    assert sum(1 for r in results if r[0] == "ok") == 1, results
    assert {r[1] for r in results if r[0] == "refused"} == {"stock.unavailable"}
    from fairdesk.services import parts

    stock = {(r["location"], r["sku"]): (r["on_hand"], r["reserved"])
             for r in parts.stock(wired.uows(readonly=True), f.manager)}
    assert stock[("ZP-STORE", "LOCK-3050")] == (1, 1)
    assert parts.verify(wired.uows(readonly=True), f.manager)["ok"]
