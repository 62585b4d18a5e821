"""Long-running work started from a page, on SQLite and PostgreSQL: what the progress and the safety cost.

    python benchmarks/runs.py           # 5,000-row imports, SLA attainment over 20,000 requests, medians of 3
    python benchmarks/runs.py --quick   # 300 rows, 1,000 requests, once (< 30 s)

Side by side, in the same run:
- a technicians import as a page starts it (`runs`: rows checked in slices of 200 with the progress committed
  between slices, then applied in one transaction) vs. the same file imported in one transaction with no
  progress (the API's `POST /imports/technicians`) — the price of a progress bar on an all-or-nothing import;
- the SLA attainment report (`sla.attainment`: pages of 500 requests, their events in one query per page,
  policies cached) vs. the naive peer: each request's clocks read the way its page reads them
  (`sla.ticket_with_clocks`, three queries a request). Both must give the same counts; the script checks.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
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
from fairdesk.domain.people import Actor, Role  # noqa: E402
from fairdesk.domain.tickets import Category, Channel, EventKind, Priority, Status, TicketFilter  # noqa: E402
from fairdesk.reference.regions_data import default_resolver  # noqa: E402
from fairdesk.services import identity, imports, network, runs, sla  # noqa: E402
from fairdesk.services import tickets as ticket_svc  # noqa: E402

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
BENCH_DB = "fairdesk_bench_runs"


class FixedClock:
    tz = TZ

    def now(self) -> datetime:
        return NOW


def _csv(n: int, prefix: str) -> bytes:
    rows = ["username,display_name,outlet_code,weekdays,shifts"]
    rows += [f"{prefix}{i:05d},师傅{i},B-01,1-5,08:30-12:30" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


def _seed(uows: UnitOfWorkFactory, engine: sa.Engine, clock: FixedClock, tickets: int) -> Actor:
    brand = identity.create_brand(uows(), clock, code="bench", name="Bench", ticket_prefix="BE")
    user = identity.create_user(identity.CreateUser("bench", "boss", "Boss", Role.MANAGER), uows(), clock)
    boss = identity.actor_for(user)
    network.create_outlet(network.CreateOutlet(boss, "B-01", "网点", "福建省漳州市漳浦县"), uows(), clock,
                          default_resolver())
    rng = random.Random(7)
    with engine.begin() as c:
        cid = c.execute(sa.insert(t.customers).values(brand_id=brand.id, name="客户", created_at=NOW)
                        .returning(t.customers.c.id)).scalar_one()
        rows, events = [], []
        for i in range(tickets):
            created = NOW - timedelta(minutes=rng.randrange(1, 29 * 24 * 60))
            status = rng.choice([Status.NEW, Status.TRIAGED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED])
            rows.append({"id": i + 1, "brand_id": brand.id, "number": f"BE-{i:08d}", "customer_id": cid,
                         "channel": Channel.HOTLINE, "category": rng.choice([Category.REPAIR, Category.CONSULTATION]),
                         "priority": rng.choice([Priority.NORMAL, Priority.HIGH]), "status": status,
                         "subject": "报修", "description": "", "created_at": created, "updated_at": created})
            events.append({"ticket_id": i + 1, "brand_id": brand.id, "kind": EventKind.CREATED, "actor": "agent:a",
                           "at": created, "from_status": None, "to_status": Status.NEW, "note": ""})
            if status is not Status.NEW:
                moved = created + timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
                events.append({"ticket_id": i + 1, "brand_id": brand.id, "kind": EventKind.TRANSITION,
                               "actor": "agent:a", "at": min(moved, NOW), "from_status": Status.NEW,
                               "to_status": status if status is not Status.CLOSED else Status.RESOLVED, "note": ""})
        for start in range(0, len(rows), 5000):
            c.execute(sa.insert(t.tickets), rows[start:start + 5000])
        for start in range(0, len(events), 5000):
            c.execute(sa.insert(t.ticket_events), events[start:start + 5000])
        if engine.dialect.name == "postgresql":
            c.execute(sa.text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
    return boss


def _median(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def bench(kind: str, rows: int, tickets: int, repeat: int) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(kind, Path(tmp), BENCH_DB)
        upgrade(url)
        engines = make_engines(url)
        uows = UnitOfWorkFactory(engines)
        clock = FixedClock()
        boss = _seed(uows, engines.write, clock, tickets)
        counter = iter(range(10_000))

        def as_run() -> dict[str, object]:
            run_id = runs.start(uows, boss, clock, "import.technicians", {}, _csv(rows, f"r{next(counter)}-"))
            runs.run_next(uows, clock)
            return runs.get_run(uows, boss, clock, run_id)["result"]

        def direct() -> dict[str, object]:
            data = imports.read_table(_csv(rows, f"d{next(counter)}-"))
            return imports.import_rows(boss, "technicians", data, uows(), clock).as_dict()

        run_s, run_out = _median(as_run, repeat)
        direct_s, direct_out = _median(direct, repeat)
        assert run_out["imported"] == direct_out["imported"] == rows, (run_out, direct_out)

        def naive() -> dict[str, dict[str, int]]:
            counts: dict[str, dict[str, int]] = {}
            flt, before = TicketFilter(created_from=NOW - timedelta(days=30)), None
            while True:
                page = ticket_svc.list_tickets(uows(readonly=True), boss, flt, before_id=before, limit=200)
                for tk in page:
                    _, _, clocks = sla.ticket_with_clocks(uows(readonly=True), boss, tk.id, clock)
                    for name, c in clocks.items():
                        if name in ("ticket_id", "policy"):
                            continue
                        outcome = "missed" if c["breached"] else "met" if c["met"] else "running"
                        counts.setdefault(name, {"met": 0, "missed": 0, "running": 0})[outcome] += 1
                if len(page) < 200:
                    return counts
                before = page[-1].id

        report_s, report = _median(lambda: sla.attainment(uows, boss, clock, 30), repeat)
        naive_s, naive_counts = _median(naive, 1)
        ours = {k: {o: v[o] for o in ("met", "missed", "running")} for k, v in report["clocks"].items()}
        assert ours == naive_counts, (ours, naive_counts)
        engines.dispose()
    return {"db": kind, "rows": rows, "import_as_run_s": round(run_s, 3), "import_direct_s": round(direct_s, 3),
            "run_over_direct": round(run_s / direct_s, 2), "tickets": tickets, "attainment_s": round(report_s, 3),
            "naive_s": round(naive_s, 3), "naive_over_ours": round(naive_s / report_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    rows, tickets, repeat = (300, 1000, 1) if args.quick else (5000, 20_000, 3)
    results = [bench(kind, rows, tickets, repeat) for kind in args.databases.split(",")]
    print(f"{'db':<11} {'rows':>6} {'import as run s':>16} {'one transaction s':>18} {'ratio':>6} "
          f"{'requests':>9} {'attainment s':>13} {'per-request peer s':>19} {'peer/ours':>10}")
    for r in results:
        print(f"{r['db']:<11} {r['rows']:>6} {r['import_as_run_s']:>16} {r['import_direct_s']:>18} "
              f"{r['run_over_direct']:>6} {r['tickets']:>9} {r['attainment_s']:>13} {r['naive_s']:>19} "
              f"{r['naive_over_ours']:>10}")
    print(json.dumps({"benchmark": "runs", "quick": args.quick, "results": results}))


if __name__ == "__main__":
    main()
