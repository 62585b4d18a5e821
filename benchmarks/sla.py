"""One SLA sweep over N open escalation timers of which a share is due, on PostgreSQL (and SQLite with
``--databases``): the time to find the due rows, and the time of the whole sweep that fires them.

    python benchmarks/sla.py            # 1,000,000 timers: 1 % and 10 % due; 100,000 timers: 10 % due
    python benchmarks/sla.py --quick    # 100,000 timers: 1 % and 10 % due; 10,000 timers: 10 % due (< 30 s)

The claim to check: a sweep's cost follows the due rows, not the total. Every configuration is seeded
fresh; one open ticket per timer (a normal repair, its 100 % resolution step, ``notify``); due tickets were
opened 30 days ago, the rest today. Firing a step recomputes the ticket's clock from its events, records an
escalation event and queues an e-mail to the brand's manager, all in batches of 200 per transaction.
The "find due" column is the first claim query alone (200 rows off the due_at index).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
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
from fairdesk.services import sla  # noqa: E402

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tue 16:00 in Shanghai
BENCH_DB = "fairdesk_bench_sla"


class FixedClock:
    tz = ZoneInfo("Asia/Shanghai")

    def now(self) -> datetime:
        return NOW




def seed(url: str, total: int, due: int) -> None:
    """``total`` open tickets with one pending step each; ``due`` of them (spread over the id range) overdue."""
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.begin() as c:
        brand = c.execute(sa.insert(t.brands).values(code="bench", name="Bench", ticket_prefix="BN",
                                                     created_at=NOW).returning(t.brands.c.id)).scalar_one()
        c.execute(sa.insert(t.users).values(brand_id=brand, username="boss", display_name="Boss", role="manager",
                                            language="zh-CN", active=True, created_at=NOW, email="boss@bench.example"))
        customer = c.execute(sa.insert(t.customers).values(brand_id=brand, name="张伟", created_at=NOW,
                                                           language="zh-CN").returning(t.customers.c.id)).scalar_one()
        old, soon = NOW - timedelta(days=30), NOW + timedelta(days=3)
        every = max(1, total // due) if due else total + 1
        chunk = 100_000
        pg = engine.dialect.name == "postgresql"
        for lo in range(1, total + 1, chunk):
            hi = min(total, lo + chunk - 1)
            if pg:
                _seed_pg(c, brand, customer, lo, hi, every, old, soon)
            else:
                _seed_rows(c, brand, customer, lo, hi, every, old, soon)
        if pg:
            c.execute(sa.text("ANALYZE"))
    engine.dispose()


def _seed_pg(c: sa.Connection, brand: int, customer: int, lo: int, hi: int, every: int, old: datetime,
             soon: datetime) -> None:
    p = {"b": brand, "c": customer, "lo": lo, "hi": hi, "every": every, "old": old, "now": NOW, "soon": soon,
         "due_at": NOW - timedelta(minutes=1)}
    c.execute(sa.text("""
        INSERT INTO tickets (id, brand_id, number, customer_id, channel, category, priority, status, subject,
                             description, created_at, updated_at)
        SELECT g, :b, 'BN-' || g, :c, 'hotline', 'repair', 'normal', 'triaged', 'bench', '',
               CASE WHEN g % CAST(:every AS bigint) = 0 THEN CAST(:old AS timestamptz)
                    ELSE CAST(:now AS timestamptz) END,
               CAST(:now AS timestamptz)
        FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) g"""), p)
    c.execute(sa.text("""
        INSERT INTO ticket_events (ticket_id, brand_id, kind, actor, at, to_status, note)
        SELECT id, brand_id, 'created', 'bench', created_at, 'new', '' FROM tickets WHERE id BETWEEN :lo AND :hi"""),
              p)
    c.execute(sa.text("""
        INSERT INTO sla_timers (brand_id, ticket_id, clock, percent, action, due_at)
        SELECT CAST(:b AS bigint), g, 'resolution', 100, 'notify',
               CASE WHEN g % CAST(:every AS bigint) = 0 THEN CAST(:due_at AS timestamptz)
                    ELSE CAST(:soon AS timestamptz) END
        FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) g"""), p)
    c.execute(sa.text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), :hi)"), p)


def _seed_rows(c: sa.Connection, brand: int, customer: int, lo: int, hi: int, every: int, old: datetime,
               soon: datetime) -> None:
    ids = range(lo, hi + 1)
    c.execute(sa.insert(t.tickets), [
        {"id": g, "brand_id": brand, "number": f"BN-{g}", "customer_id": customer, "channel": "hotline",
         "category": "repair", "priority": "normal", "status": "triaged", "subject": "bench", "description": "",
         "created_at": old if g % every == 0 else NOW, "updated_at": NOW} for g in ids])
    c.execute(sa.insert(t.ticket_events), [
        {"ticket_id": g, "brand_id": brand, "kind": "created", "actor": "bench",
         "at": old if g % every == 0 else NOW, "to_status": "new", "note": ""} for g in ids])
    c.execute(sa.insert(t.sla_timers), [
        {"brand_id": brand, "ticket_id": g, "clock": "resolution", "percent": 100, "action": "notify",
         "due_at": NOW - timedelta(minutes=1) if g % every == 0 else soon} for g in ids])


def measure(url: str, total: int, due: int) -> dict[str, float]:
    started = time.perf_counter()
    seed(url, total, due)
    seeded = time.perf_counter() - started
    engines = make_engines(url)
    uows = UnitOfWorkFactory(engines)
    finds = []
    for _ in range(5):
        with uows() as uow:
            t0 = time.perf_counter()
            uow.timers.claim_due(NOW, 200)
            finds.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    result = sla.sweep(uows, FixedClock(), public_url="https://bench.example")
    took = time.perf_counter() - t0
    with engines.write.connect() as c:
        queued = c.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        left = c.execute(sa.select(sa.func.count()).select_from(t.sla_timers)
                         .where(t.sla_timers.c.due_at <= NOW)).scalar_one()
    engines.dispose()
    assert result.fired == due == queued and left == 0, (result, due, queued, left)
    return {"total": total, "due": due, "seed_s": round(seeded, 1), "find_ms": round(statistics.median(finds) * 1e3, 2),
            "sweep_s": round(took, 2), "per_due_us": round(took / due * 1e6) if due else 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, under 30 s")
    ap.add_argument("--databases", default="postgresql", help="comma-separated: postgresql,sqlite")
    args = ap.parse_args()
    big = 100_000 if args.quick else 1_000_000
    small = big // 10
    configs = [(big, big // 100), (big, big // 10), (small, small // 10)]
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            for total, due in configs:
                url = fresh_database(kind, Path(tmp), BENCH_DB)
                rows.append({"db": kind, **measure(url, total, due)})
                r = rows[-1]
                print(f"  {kind} {total:,} timers, {due:,} due: sweep {r['sweep_s']} s", file=sys.stderr)
    print(f"\n{'db':<11} {'timers':>10} {'due':>8} {'find due (ms)':>14} {'sweep (s)':>10} {'µs per due row':>15}")
    for r in rows:
        print(f"{r['db']:<11} {r['total']:>10,} {r['due']:>8,} {r['find_ms']:>14} {r['sweep_s']:>10} "
              f"{r['per_due_us']:>15,}")
    print("\nSame due count, 10x the timers: compare rows with equal 'due'. µs per due row should not grow with"
          " the total.")
    print(json.dumps({"benchmark": "sla_sweep", "quick": args.quick, "results": rows}))


if __name__ == "__main__":
    main()
