"""Dispatch decisions and stock reads at network scale, on SQLite and PostgreSQL.

    python benchmarks/dispatch.py           # 10,000 technicians over every county; stock at 10k and 1M movements
    python benchmarks/dispatch.py --quick   # 1,000 technicians, 10k and 100k movements (< 30 s)

Seeded: one outlet per county-level division (2,800+), covering it; technicians spread over them, each
certified for the three product lines (one in ten with a lapsed certificate) and already holding two visits
in the coming week; repair tickets at random counties. A *decision* is `dispatch.plan`: the ticket, unit and
address, the outlets covering it, eligible certified technicians, their slots, leave and loads, the SLA
deadline, and the scored ranking over seven days — what auto-dispatch decides before it writes. A *booking*
(`dispatch.book`) adds the writes: the visit, its slots, the reservation, the ticket's events, evidence.

Side by side, in the same run:
- decision, indexed path (fairdesk) vs. the naive peer: load every technician, certificate and slot of the
  brand and filter in Python (what a spreadsheet export or a generic help desk plug-in does);
- stock read: the maintained balance (fairdesk) vs. deriving it from the ledger on every read (SUM over the
  part's movements), at 10k and at the large ledger size.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import fresh_database  # noqa: E402

from fairdesk.adapters.db import tables as t  # noqa: E402
from fairdesk.adapters.db.engine import make_engines  # noqa: E402
from fairdesk.adapters.db.migrate import upgrade  # noqa: E402
from fairdesk.adapters.db.uow import UnitOfWorkFactory  # noqa: E402
from fairdesk.domain.parts import MovementKind, derive  # noqa: E402
from fairdesk.domain.people import Actor, Role  # noqa: E402
from fairdesk.domain.regions import Level  # noqa: E402
from fairdesk.reference.regions_data import default_points, default_resolver  # noqa: E402
from fairdesk.services import dispatch, parts  # noqa: E402

NOW = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
TZ = ZoneInfo("Asia/Shanghai")
LINES = ("home-safe", "fingerprint-safe", "fire-safe")
BENCH_DB = "fairdesk_bench_dispatch"


class FixedClock:
    tz = TZ

    def now(self) -> datetime:
        return NOW




def _ins(c: sa.Connection, table: sa.Table, rows: list[dict], chunk: int = 20_000) -> None:
    for i in range(0, len(rows), chunk):
        c.execute(sa.insert(table), rows[i:i + chunk])


def seed_network(url: str, technicians: int, tickets: int, rnd: random.Random) -> tuple[int, list[int]]:
    """The brand, its network and workforce, existing visits, and the tickets to decide."""
    upgrade(url)
    table = default_resolver().table
    points = default_points()
    counties = sorted(d.code for d in table.by_code.values() if d.level is Level.COUNTY)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        brand = c.execute(sa.insert(t.brands).values(code="bench", name="Bench", ticket_prefix="BN", created_at=NOW)
                          .returning(t.brands.c.id)).scalar_one()
        products = [c.execute(sa.insert(t.products).values(brand_id=brand, model=f"M-{line}", name=line,
                                                           product_line=line).returning(t.products.c.id)).scalar_one()
                    for line in LINES]
        outlets = []
        for i, code in enumerate(counties):
            p = points.get(code) or points.get(code[:4] + "00")
            outlets.append({"id": i + 1, "brand_id": brand, "code": f"O{i:05d}", "name": code, "address": code,
                            "adcode": code, "latitude": p[0] if p else None, "longitude": p[1] if p else None,
                            "hotline": "", "opening_hours": "", "active": True, "created_at": NOW})
        _ins(c, t.outlets, outlets)
        _ins(c, t.outlet_coverage, [{"brand_id": brand, "outlet_id": o["id"], "adcode": o["adcode"]} for o in outlets])
        users, techs, certs = [], [], []
        for u in range(1, technicians + 1):
            o = outlets[(u - 1) % len(outlets)]
            users.append({"id": u, "brand_id": brand, "username": f"tech{u}", "display_name": f"T{u}",
                          "role": "technician", "language": "zh-CN", "active": True, "created_at": NOW})
            techs.append({"user_id": u, "brand_id": brand, "outlet_id": o["id"], "shifts": "08:30-12:30,13:30-19:30",
                          "weekdays": "1,2,3,4,5,6" if u % 2 else "2,3,4,5,6,7", "holidays_off": True,
                          "home_latitude": o["latitude"], "home_longitude": o["longitude"], "max_visits_per_day": 6,
                          "active": True, "created_at": NOW})
            lapsed = u % 10 == 0
            for line in LINES:
                certs.append({"brand_id": brand, "technician_id": u, "product_line": line, "level": 2,
                              "valid_from": date(2025, 1, 1), "valid_to": date(2026, 10, 31) if lapsed else
                              date(2028, 12, 31), "number": "", "created_at": NOW})
        _ins(c, t.users, users)
        _ins(c, t.technicians, techs)
        _ins(c, t.certifications, certs)
        customer = c.execute(sa.insert(t.customers).values(brand_id=brand, name="客户", created_at=NOW,
                                                           language="zh-CN").returning(t.customers.c.id)).scalar_one()
        addresses = [{"id": i + 1, "customer_id": customer, "text": code, "adcode": code}
                     for i, code in enumerate(counties)]
        _ins(c, t.customer_addresses, addresses)
        units = [{"id": i + 1, "brand_id": brand, "customer_id": customer, "product_id": products[i % 3],
                  "serial_number": f"S{i}"} for i in range(tickets)]
        _ins(c, t.units, units)
        existing = 2 * technicians  # two visits per technician in the coming week, each on its own ticket
        rows, events = [], []
        for i in range(tickets + existing):
            rows.append({"id": i + 1, "brand_id": brand, "number": f"BN-{i}", "customer_id": customer,
                         "unit_id": units[i % tickets]["id"], "address_id": rnd.randrange(len(addresses)) + 1,
                         "channel": "hotline", "category": "repair", "priority": "normal", "status": "triaged",
                         "subject": "bench", "description": "", "created_at": NOW, "updated_at": NOW})
            events.append({"ticket_id": i + 1, "brand_id": brand, "kind": "created", "actor": "bench", "at": NOW,
                           "to_status": "new", "note": ""})
        _ins(c, t.tickets, rows)
        _ins(c, t.ticket_events, events)
        visits, slots = [], []
        for v in range(existing):
            tech = v // 2 + 1
            day = NOW.astimezone(TZ).date() + timedelta(days=1 + v % 6)
            start = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=8, minutes=30 + 120 * (v % 2))
            visits.append({"id": v + 1, "brand_id": brand, "ticket_id": tickets + v + 1, "technician_id": tech,
                           "outlet_id": techs[tech - 1]["outlet_id"], "starts_at": start,
                           "ends_at": start + timedelta(hours=2), "status": "booked", "score": "{}",
                           "booked_by": "bench", "created_at": NOW, "updated_at": NOW})
            slots += [{"technician_id": tech, "slot_at": start + timedelta(minutes=30 * k), "visit_id": v + 1}
                      for k in range(4)]
        _ins(c, t.visits, visits)
        _ins(c, t.technician_slots, slots)
        if engine.dialect.name == "postgresql":
            for name in ("outlets", "users", "tickets", "visits", "customer_addresses", "units"):
                c.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - our names
                                  f"(SELECT max(id) FROM {name}))"))
            c.execute(sa.text("ANALYZE"))
    engine.dispose()
    return brand, list(range(1, tickets + 1))


def naive_decision(uows: UnitOfWorkFactory, brand: int, ticket_id: int) -> int | None:
    """The peer: everything of the brand loaded, then filtered in Python."""
    resolver = default_resolver()
    with uows(readonly=True) as uow:
        c = uow.session.connection()
        ticket = c.execute(sa.select(t.tickets).where(t.tickets.c.id == ticket_id)).one()
        adcode = c.execute(sa.select(t.customer_addresses.c.adcode)
                           .where(t.customer_addresses.c.id == ticket.address_id)).scalar_one()
        chain = set(resolver.table.chain(adcode))
        covering = {r.outlet_id for r in c.execute(sa.select(t.outlet_coverage).where(
            t.outlet_coverage.c.brand_id == brand)) if r.adcode in chain}
        techs = [r for r in c.execute(sa.select(t.technicians).where(t.technicians.c.brand_id == brand))
                 if r.outlet_id in covering]
        certs = {r.technician_id for r in c.execute(sa.select(t.certifications)) if r.valid_to >= NOW.date()}
        busy = {(r.technician_id, r.slot_at) for r in c.execute(sa.select(t.technician_slots))}
    free = [x.user_id for x in techs if x.user_id in certs and (x.user_id, NOW + timedelta(hours=2)) not in busy]
    return free[0] if free else None


def decisions(url: str, brand: int, ticket_ids: list[int], naive_n: int) -> dict[str, float]:
    engines = make_engines(url)
    uows = UnitOfWorkFactory(engines)
    clock = FixedClock()
    actor = Actor(brand, Role.DISPATCHER, label="bench")
    for tid in ticket_ids[:20]:  # warm caches and prepared statements
        dispatch.plan(uows(readonly=True), actor, tid, clock, limit=1)
    lat, found = [], []
    t0 = time.perf_counter()
    for tid in ticket_ids:
        s = time.perf_counter()
        ranked = dispatch.plan(uows(readonly=True), actor, tid, clock, limit=1)
        lat.append(time.perf_counter() - s)
        if ranked:
            found.append(tid)
    wall = time.perf_counter() - t0
    naive = []
    for tid in ticket_ids[:naive_n]:
        s = time.perf_counter()
        naive_decision(uows, brand, tid)
        naive.append(time.perf_counter() - s)
    books = []
    for tid in found[: max(10, len(ticket_ids) // 10)]:
        s = time.perf_counter()
        dispatch.book(dispatch.Booking(actor, tid), uows, clock)
        books.append(time.perf_counter() - s)
    engines.dispose()
    q = statistics.quantiles(lat, n=100)
    return {"decisions": len(lat), "with_technician": len(found), "per_s": round(len(lat) / wall),
            "p50_ms": round(q[49] * 1e3, 2), "p99_ms": round(q[98] * 1e3, 2),
            "naive_p50_ms": round(statistics.median(naive) * 1e3, 1),
            "book_p50_ms": round(statistics.median(books) * 1e3, 2),
            "book_p99_ms": round(statistics.quantiles(books, n=100)[98] * 1e3, 2)}


def seed_stock(url: str, movements: int, rnd: random.Random) -> tuple[int, list[tuple[int, int]]]:
    """200 parts, a warehouse, 100 outlet stores, 1,000 vans; receipts, transfers, reservations, consumption
    and releases in the ledger, and the balances they give."""
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        brand = c.execute(sa.insert(t.brands).values(code="stock", name="Stock", ticket_prefix="ST", created_at=NOW)
                          .returning(t.brands.c.id)).scalar_one()
        _ins(c, t.parts, [{"id": p, "brand_id": brand, "sku": f"P{p:04d}", "name": f"part {p}", "serialized": False,
                           "unit_cost": Decimal("0"), "active": True, "created_at": NOW} for p in range(1, 201)])
        locs = [{"id": i, "brand_id": brand, "code": f"L{i:04d}", "name": f"L{i}",
                 "kind": "warehouse" if i == 1 else ("outlet" if i <= 101 else "van"), "created_at": NOW}
                for i in range(1, 1102)]
        _ins(c, t.stock_locations, locs)
        rows = []
        kinds = [MovementKind.TRANSFER, MovementKind.TRANSFER, MovementKind.RESERVE, MovementKind.CONSUME,
                 MovementKind.RELEASE]
        for m in range(movements):
            part = m % 200 + 1
            if m < 200 * 5 or m % 10 == 0:  # receipts keep the warehouse stocked
                rows.append((MovementKind.RECEIVE, part, 1000, None, 1, False))
            else:
                k = kinds[m % len(kinds)]
                store = rnd.randrange(2, 102)
                if k is MovementKind.TRANSFER:
                    rows.append((k, part, 1, 1, store, False))
                else:
                    rows.append((k, part, 1, 1, None, k is MovementKind.CONSUME and m % 2 == 0))
        # Keep only a sequence that is valid (never below zero), like the live path enforces.
        ok, balance = [], {}
        for k, part, qty, src, dst, fr in rows:
            trial = derive([(k, part, qty, src, dst, fr)])
            nxt = {key: tuple(a + b for a, b in zip(balance.get(key, (0, 0)), d, strict=True))
                   for key, d in trial.items()}
            if all(v[0] >= 0 and 0 <= v[1] <= v[0] for v in nxt.values()):
                balance.update(nxt)
                ok.append((k, part, qty, src, dst, fr))
        _ins(c, t.stock_movements, [{"brand_id": brand, "at": NOW, "kind": k.value, "part_id": part,
                                     "from_location_id": src, "to_location_id": dst, "qty": qty,
                                     "from_reservation": fr, "actor": "bench", "note": ""}
                                    for k, part, qty, src, dst, fr in ok], chunk=50_000)
        _ins(c, t.stock_balances, [{"location_id": loc, "part_id": part, "brand_id": brand, "on_hand": v[0],
                                    "reserved": v[1]} for (loc, part), v in balance.items()])
        if engine.dialect.name == "postgresql":
            c.execute(sa.text("ANALYZE"))
    engine.dispose()
    return brand, sorted(balance)


BALANCE = sa.text("SELECT on_hand, reserved FROM stock_balances WHERE location_id = :loc AND part_id = :p")
LEDGER_SUM = sa.text("""
    SELECT COALESCE(SUM(CASE WHEN to_location_id = :loc AND kind IN ('receive', 'return', 'transfer') THEN qty
                             WHEN from_location_id = :loc AND kind IN ('transfer', 'consume', 'scrap') THEN -qty
                             ELSE 0 END), 0)
    FROM stock_movements WHERE brand_id = :b AND part_id = :p AND (to_location_id = :loc OR from_location_id = :loc)""")


def stock_reads(url: str, brand: int, keys: list[tuple[int, int]], n: int, rnd: random.Random) -> dict[str, float]:
    engines = make_engines(url)
    uows = UnitOfWorkFactory(engines)
    actor = Actor(brand, Role.DISPATCHER, label="bench")
    sample = [keys[rnd.randrange(len(keys))] for _ in range(n)]
    balance, ledger = [], []
    service = []
    for loc, part in sample[: max(10, n // 5)]:
        s = time.perf_counter()
        parts.stock(uows(readonly=True), actor, location=f"L{loc:04d}", sku=f"P{part:04d}")
        service.append(time.perf_counter() - s)
    with engines.read.connect() as c:
        for loc, part in sample:
            s = time.perf_counter()
            c.execute(BALANCE, {"p": part, "loc": loc}).one()
            balance.append(time.perf_counter() - s)
        for loc, part in sample[: max(10, n // 5)]:
            s = time.perf_counter()
            c.execute(LEDGER_SUM, {"b": brand, "p": part, "loc": loc}).scalar_one()
            ledger.append(time.perf_counter() - s)
    engines.dispose()
    return {"balance_p50_ms": round(statistics.median(balance) * 1e3, 3),
            "balance_p99_ms": round(statistics.quantiles(balance, n=100)[98] * 1e3, 3),
            "ledger_sum_p50_ms": round(statistics.median(ledger) * 1e3, 3),
            "service_p50_ms": round(statistics.median(service) * 1e3, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, under 30 s")
    ap.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    args = ap.parse_args()
    techs, tickets = (1_000, 150) if args.quick else (10_000, 2_000)
    big = 100_000 if args.quick else 1_000_000
    rnd = random.Random(7)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            s = time.perf_counter()
            url = fresh_database(kind, Path(tmp), f"{BENCH_DB}_net")
            brand, ids = seed_network(url, techs, tickets, rnd)
            print(f"  {kind}: seeded {techs:,} technicians in {time.perf_counter() - s:.1f} s", file=sys.stderr)
            d = decisions(url, brand, ids, naive_n=10 if args.quick else 50)
            stock = {}
            for size in (10_000, big):
                surl = fresh_database(kind, Path(tmp), f"{BENCH_DB}_stock{size}")
                s = time.perf_counter()
                sbrand, keys = seed_stock(surl, size, rnd)
                print(f"  {kind}: seeded {size:,} movements in {time.perf_counter() - s:.1f} s", file=sys.stderr)
                stock[size] = stock_reads(surl, sbrand, keys, 500 if args.quick else 2_000, rnd)
            out[kind] = {"technicians": techs, **d, "stock": {str(k): v for k, v in stock.items()}}
    print(f"\n{'db':<11} {'techs':>6} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} {'naive p50 ms':>13} "
          f"{'book p50':>9} {'book p99':>9}")
    for kind, r in out.items():
        print(f"{kind:<11} {r['technicians']:>6,} {r['per_s']:>12,} {r['p50_ms']:>8} {r['p99_ms']:>8} "
              f"{r['naive_p50_ms']:>13} {r['book_p50_ms']:>9} {r['book_p99_ms']:>9}")
    print(f"\n{'db':<11} {'movements':>10} {'balance p50 ms':>15} {'balance p99 ms':>15} {'ledger SUM p50 ms':>18} "
          f"{'GET /stock p50 ms':>18}")
    for kind, r in out.items():
        for size, v in r["stock"].items():
            print(f"{kind:<11} {int(size):>10,} {v['balance_p50_ms']:>15} {v['balance_p99_ms']:>15} "
                  f"{v['ledger_sum_p50_ms']:>18} {v['service_p50_ms']:>18}")
    print("\nTarget: decision p99 < 5 ms; balance reads as fast at the large ledger as at 10k (the SUM peer grows).")
    print(json.dumps({"benchmark": "dispatch", "quick": args.quick, "results": out}))


if __name__ == "__main__":
    main()
