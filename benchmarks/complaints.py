"""The complaint queue, group proposals and the credit scores at scale, on SQLite and PostgreSQL.

    python benchmarks/complaints.py           # 200k complaints, 1M requests, 500k answered surveys
    python benchmarks/complaints.py --quick   # 20k complaints, 100k requests, 50k surveys (< 30 s)

Seeded with bulk inserts: 20 brands with 10 outlets each; the first brand holds half of everything. One in ten
complaints is open, a third of those in the green channel, with deadlines spread over the coming weeks.

Side by side, in the same run:
- the handling queue's first page (50) as fairdesk serves it (the database sorts: green first, then the nearest
  deadline) vs. the naive peer: load every open complaint of the brand and sort in Python;
- the credit scores of every brand and outlet (`credit.compute_all`: grouped counts in the database) vs. the
  naive peer: load every survey, request and complaint row and count in Python;
- group proposals over the brand's open complaints (bigram index; no peer: reported alone).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
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
from fairdesk.domain.complaints import GREEN, OPEN, Category, queue_key  # noqa: E402
from fairdesk.domain.people import Actor, Role  # noqa: E402
from fairdesk.services import complaints, credit  # noqa: E402

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
BENCH_DB = "fairdesk_bench_complaints"
BRANDS, OUTLETS = 20, 10
ISSUES = ["取消延保后三十天仍未退款客服一直说在处理", "更换的门锁不是原厂配件用了一周就坏了",
          "师傅上门维修后密码盘失灵再次报修无人上门", "收费标准与合同不一致多收了上门费"]


class FixedClock:
    tz = TZ

    def now(self) -> datetime:
        return NOW




def _ins(c: sa.Connection, table: sa.Table, rows: list[dict], chunk: int = 20_000) -> None:
    for i in range(0, len(rows), chunk):
        c.execute(sa.insert(table), rows[i:i + chunk])


def _brand(rnd: random.Random) -> int:
    return 1 if rnd.random() < 0.5 else rnd.randint(2, BRANDS)


def seed(url: str, complaints_n: int, tickets_n: int, surveys_n: int, rnd: random.Random) -> None:
    upgrade(url)
    engine = sa.create_engine(url)
    customers_n = max(1000, complaints_n // 4)
    with engine.begin() as c:
        _ins(c, t.brands, [{"id": b, "code": f"b{b}", "name": f"Brand {b}", "ticket_prefix": "BB", "created_at": NOW}
                           for b in range(1, BRANDS + 1)])
        _ins(c, t.outlets, [{"id": (b - 1) * OUTLETS + o, "brand_id": b, "code": f"O{o}", "name": f"网点{o}",
                             "address": "", "created_at": NOW, "hotline": "", "opening_hours": "", "active": True}
                            for b in range(1, BRANDS + 1) for o in range(1, OUTLETS + 1)])
        cust_brand = {i: _brand(rnd) for i in range(1, customers_n + 1)}
        _ins(c, t.customers, [{"id": i, "brand_id": b, "name": f"客户{i}", "created_at": NOW, "language": "zh-CN"}
                              for i, b in cust_brand.items()])
        by_brand: dict[int, list[int]] = {}
        for i, b in cust_brand.items():
            by_brand.setdefault(b, []).append(i)

        def outlet(b: int) -> int:
            return (b - 1) * OUTLETS + rnd.randint(1, OUTLETS)

        tickets = []
        for i in range(1, tickets_n + 1):
            b = _brand(rnd)
            at = NOW - timedelta(days=rnd.uniform(0, 360))
            tickets.append({"id": i, "brand_id": b, "number": f"T{i}", "customer_id": rnd.choice(by_brand[b]),
                            "channel": "hotline", "category": "repair", "priority": "normal", "status": "resolved",
                            "subject": "维修", "description": "", "created_at": at, "updated_at": at,
                            "outlet_id": outlet(b)})
        _ins(c, t.tickets, tickets)
        surveys = []
        for i, tk in enumerate(rnd.sample(tickets, surveys_n), start=1):
            at = tk["created_at"] + timedelta(days=2)
            surveys.append({"id": i, "brand_id": tk["brand_id"], "ticket_id": tk["id"],
                            "customer_id": tk["customer_id"], "outlet_id": tk["outlet_id"],
                            "period": at.strftime("%Y-%m"), "token_hash": f"{i:064x}",
                            "sent_at": at, "expires_at": at + timedelta(days=14), "answered_at": min(at, NOW),
                            "csat": rnd.choice((5, 5, 5, 4, 4, 3, 2, 1)), "nps": rnd.randint(0, 10), "comment": ""})
        _ins(c, t.surveys, surveys)
        del tickets, surveys
        rows = []
        for i in range(1, complaints_n + 1):
            b = _brand(rnd)
            cat = rnd.choice(list(Category))
            is_open = rnd.random() < 0.1
            green = cat in GREEN
            got = NOW - timedelta(days=rnd.uniform(0, 30 if is_open else 360))
            status = rnd.choice(("received", "accepted", "mediation")) if is_open else \
                rnd.choice(("settled", "closed", "rejected", "mediation_ended"))
            responded = status not in ("received", "accepted") and rnd.random() < 0.9
            rows.append({"id": i, "brand_id": b, "customer_id": rnd.choice(by_brand[b]), "outlet_id": outlet(b),
                         "number": f"TS{i:010d}", "category": cat.value, "green": green, "status": status,
                         "complainant": "张", "contact_phone": "+8613800138000", "request": "退款",
                         "facts": rnd.choice(ISSUES) + str(rnd.randint(0, 99)), "received_at": got,
                         "due_acceptance": got + timedelta(days=1 if green else 9),
                         "due_first_response": got + timedelta(hours=24 if green else 360),
                         "accepted_at": got + timedelta(days=1) if status != "received" else None,
                         "first_response_at": got + timedelta(hours=rnd.uniform(1, 400)) if responded else None,
                         "due_mediation": got + timedelta(days=60) if status != "received" else None,
                         "consumer_confirmed": status == "settled", "ended_at": None if is_open else got})
        _ins(c, t.complaints, rows)
    engine.dispose()


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        s = time.perf_counter()
        fn()
        out.append(time.perf_counter() - s)
    return out


def naive_queue(uows: UnitOfWorkFactory) -> list[str]:
    with uows(readonly=True) as uow:
        rows = uow.complaints.listing(1, statuses=OPEN, limit=10**9)
        rows.sort(key=lambda c: (queue_key(c.green, c.next_due(), c.received_at), c.id))
        return [c.number for c in rows[:50]]


def naive_credit(engine: sa.Engine) -> int:
    """Load every row and count in Python (what exporting to a spreadsheet does)."""
    counts: Counter[tuple[int, int | None, str]] = Counter()
    with engine.connect() as c:
        for r in c.execute(sa.select(t.surveys.c.brand_id, t.surveys.c.outlet_id, t.surveys.c.csat)):
            counts[(r.brand_id, r.outlet_id, "ratings")] += 1
            counts[(r.brand_id, r.outlet_id, "csat")] += r.csat
        for r in c.execute(sa.select(t.tickets.c.brand_id, t.tickets.c.outlet_id)):
            counts[(r.brand_id, r.outlet_id, "tickets")] += 1
        for r in c.execute(sa.select(t.complaints.c.brand_id, t.complaints.c.outlet_id, t.complaints.c.status,
                                     t.complaints.c.first_response_at, t.complaints.c.due_first_response)):
            counts[(r.brand_id, r.outlet_id, "complaints")] += 1
            if r.first_response_at is not None and r.first_response_at <= r.due_first_response:
                counts[(r.brand_id, r.outlet_id, "on_time")] += 1
    return len(counts)


def run(kind: str, url: str, sizes: tuple[int, int, int], repeat: int) -> dict[str, float]:
    engines = make_engines(url)
    uows = UnitOfWorkFactory(engines)
    clock = FixedClock()
    agent = Actor(brand_id=1, role=Role.AGENT, label="bench")
    page = lambda: complaints.queue(uows, agent, clock, limit=50)  # noqa: E731
    ours = [c["number"] for c in page()]
    assert ours == naive_queue(uows), "the database's order differs from the published rule"
    q = timed(page, repeat)
    nq = timed(lambda: naive_queue(uows), max(3, repeat // 20))
    s = time.perf_counter()
    stored = credit.compute_all(uows, clock)
    credit_s = [time.perf_counter() - s, *timed(lambda: credit.compute_all(uows, clock), 2)]
    peer_s = timed(lambda: naive_credit(engines.write), 3)
    s = time.perf_counter()
    proposals = complaints.group_proposals(uows, agent)
    group_s = time.perf_counter() - s
    with uows(readonly=True) as uow:
        open_n = len(uow.complaints.listing(1, statuses=OPEN, limit=10**9))
    engines.dispose()
    return {"complaints": sizes[0], "tickets": sizes[1], "surveys": sizes[2], "open_in_brand": open_n,
            "queue_p50_ms": round(statistics.median(q) * 1e3, 2),
            "queue_p99_ms": round(sorted(q)[max(0, int(len(q) * 0.99) - 1)] * 1e3, 2),
            "naive_queue_p50_ms": round(statistics.median(nq) * 1e3, 2),
            "credit_s": round(statistics.median(credit_s), 3), "scores_stored": stored,
            "naive_credit_s": round(statistics.median(peer_s), 3),
            "group_proposals_s": round(group_s, 3), "groups_proposed": len(proposals)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, under 30 s")
    ap.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    args = ap.parse_args()
    sizes = (20_000, 100_000, 50_000) if args.quick else (200_000, 1_000_000, 500_000)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            url = fresh_database(kind, Path(tmp), BENCH_DB)
            s = time.perf_counter()
            seed(url, *sizes, random.Random(5))
            print(f"  {kind}: seeded in {time.perf_counter() - s:.1f} s", file=sys.stderr)
            out[kind] = run(kind, url, sizes, 50 if args.quick else 200)
    print(f"\n{'db':<11} {'complaints':>10} {'open (brand)':>12} {'queue p50 ms':>12} {'p99 ms':>8} "
          f"{'naive p50 ms':>12} {'credit s':>9} {'naive s':>8} {'scores':>7} {'groups s':>9}")
    for kind, r in out.items():
        print(f"{kind:<11} {r['complaints']:>10,} {r['open_in_brand']:>12,} {r['queue_p50_ms']:>12} "
              f"{r['queue_p99_ms']:>8} {r['naive_queue_p50_ms']:>12} {r['credit_s']:>9} {r['naive_credit_s']:>8} "
              f"{r['scores_stored']:>7} {r['group_proposals_s']:>9}")
    print("\nqueue: the first 50 of the handling queue; naive: load every open complaint and sort in Python. "
          "credit: every brand's and outlet's score; naive: load every row and count in Python (counting only).")
    print(json.dumps({"benchmark": "complaints", "quick": args.quick, "results": out}))


if __name__ == "__main__":
    main()
