"""A mixed workload over HTTP at rising rates, on SQLite and PostgreSQL, against a real `fairdesk serve`; and
lists, searches and intake with millions of tickets on PostgreSQL.

    python benchmarks/load.py                       # rates 25…300 req/s × 10 s; 10,000,000 tickets on PostgreSQL
    python benchmarks/load.py --big-tickets 1000000 # a smaller large table
    python benchmarks/load.py --quick               # 40 req/s × 2 s, 100,000 tickets (< 30 s)

The server: `fairdesk serve --workers 2` on the demo brand (`load_demo`: 380 outlets with technicians, plans,
the customer login's subscription) plus 60 repair requests to dispatch, with rate limits off (one agent token
sends everything). The workload is open-loop — requests are sent on a fixed schedule whatever the answers, and
latency counts from the scheduled instant, so a slow server shows as latency, not as fewer requests:

| operation | share | request |
|---|---|---|
| intake | 30 % | POST /api/v1/tickets (a new Idempotency-Key each) |
| status | 30 % | GET /api/v1/tickets/{id} |
| list | 10 % | GET /api/v1/tickets?status=triaged&limit=20 |
| dispatch | 10 % | GET /api/v1/tickets/{id}/windows (the dispatch decision's read side) |
| plan change | 10 % | POST /api/v1/subscriptions/{id}/changes, preview (the customer) |
| chat | 10 % | POST /api/v1/conversations/{id}/messages (the customer) |

Two generator processes share the rate (one Python process cannot send much over ~150 requests/s); the table
shows the CPU they used themselves, because on a small machine they compete with the server. The latency
*bends* at the first rate whose overall p99 exceeds three times the lowest rate's, or where more
than 1 % fail. With --big-tickets N, N tickets are copied into the PostgreSQL database (COPY) and the
first page, a status filter, a caller's tickets, the next page by cursor and intake are timed over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import free_port, fresh_database  # noqa: E402

from fairdesk.adapters.db.migrate import upgrade  # noqa: E402
from fairdesk.bootstrap import bootstrap  # noqa: E402
from fairdesk.config import load_settings  # noqa: E402
from fairdesk.domain.people import Actor, Role  # noqa: E402
from fairdesk.domain.tickets import Category, Channel  # noqa: E402
from fairdesk.entrypoints.cli.demo_data import DEMO_BRAND, load_demo  # noqa: E402
from fairdesk.services import customers as customer_svc  # noqa: E402
from fairdesk.services import identity  # noqa: E402
from fairdesk.services import plans as plans_svc  # noqa: E402
from fairdesk.services import tickets as ticket_svc  # noqa: E402

SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"
BENCH_DB = "fairdesk_bench_load"
MIX = (("intake", 30), ("status", 30), ("list", 10), ("dispatch", 10), ("plan_change", 10), ("chat", 10))




def seed(url: str) -> dict:
    """The demo brand, tokens for the agent and the customer, repair requests to dispatch, a conversation."""
    upgrade(url)
    app = bootstrap(load_settings(database_url=url, secret_key=SECRET))
    load_demo(app)
    agent = identity.issue_token(app.uows(), app.clock, "agent")
    customer = identity.issue_token(app.uows(), app.clock, "customer")
    with app.uows(readonly=True) as uow:
        brand = uow.brands.by_code(DEMO_BRAND)
        people = [c for c in uow.customers.page(brand.id, before_id=None, limit=10) if c.addresses]
        units = {c.id: uow.units.of_customer(brand.id, c.id) for c in people}
        sub = uow.plans.subscriptions_of(brand.id, uow.users.by_username("customer").customer_id)[0].id
    op = Actor(brand.id, Role.AGENT, label="agent:bench")
    # Twenty more customers with a plan each: the hotline previews their plan changes (one customer's plan
    # previewed fifty times a second would only measure optimistic-lock conflicts on one row).
    subs = []
    for i in range(20):
        c = customer_svc.create_customer(customer_svc.CreateCustomer(op, f"压测客户{i}", [f"1370000{i:04d}"]),
                                         app.uows(), app.clock)
        subs.append(plans_svc.subscribe(plans_svc.Subscribe(op, c.id, "care-plus", "alipay", "hotline"),
                                        app.uows(), app.clock).id)
    repairs = []
    for i in range(60):
        c = people[i % len(people)]
        if not units[c.id]:
            continue
        t, _ = ticket_svc.open_ticket(ticket_svc.OpenTicket(
            actor=op, customer_id=c.id, channel=Channel.HOTLINE, category=Category.REPAIR, subject=f"压测 {i}",
            unit_id=units[c.id][0].id, address_id=c.addresses[0].id), app.uows, app.clock)
        repairs.append(t.id)
    app.dispose()
    return {"agent": agent, "customer": customer, "customer_id": people[0].id, "repairs": repairs,
            "subscription": sub, "subscriptions": subs, "brand_id": brand.id}


def start_server(url: str, port: int) -> subprocess.Popen:
    env = os.environ | {"FAIRDESK_DATABASE_URL": url, "FAIRDESK_SECRET_KEY": SECRET, "FAIRDESK_LOG_LEVEL": "ERROR",
                        "FAIRDESK_RATE_LIMIT_INTAKE": "", "FAIRDESK_RATE_LIMIT_PUBLIC": "",
                        "FAIRDESK_RATE_LIMIT_LOGIN": ""}
    proc = subprocess.Popen([sys.executable, "-m", "fairdesk", "serve", "--workers", "2", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(proc.stderr.read().decode()[-2000:])




class Load:
    def __init__(self, base: str, s: dict, rnd: random.Random) -> None:
        self.base, self.s, self.rnd = base, s, rnd
        self.agent = {"Authorization": f"Bearer {s['agent']}"}
        self.customer = {"Authorization": f"Bearer {s['customer']}"}
        self.tickets: list[int] = list(s["repairs"])
        self.ops = [name for name, share in MIX for _ in range(share)]
        self.codes: dict[int, int] = {}
        self.warm_each = int(os.environ.get("LOAD_WARM_EACH", "12"))

    async def one(self, c: httpx.AsyncClient, op: str) -> int:
        s, r = self.s, self.rnd
        if op == "intake":
            resp = await c.post("/api/v1/tickets", headers=self.agent | {"Idempotency-Key": uuid.uuid4().hex},
                                json={"customer_id": s["customer_id"], "category": "consultation",
                                      "subject": "压测来电", "channel": "hotline"})
            if resp.status_code == 201:
                self.tickets.append(resp.json()["id"])
        elif op == "status":
            resp = await c.get(f"/api/v1/tickets/{r.choice(self.tickets)}", headers=self.agent)
        elif op == "list":
            resp = await c.get("/api/v1/tickets", params={"status": "triaged", "limit": 20}, headers=self.agent)
        elif op == "dispatch":
            resp = await c.get(f"/api/v1/tickets/{r.choice(s['repairs'])}/windows", headers=self.agent)
        elif op == "plan_change":
            resp = await c.post(f"/api/v1/subscriptions/{r.choice(s['subscriptions'])}/changes", headers=self.agent,
                                json={"to_plan": r.choice(["care-basic", "care-premium"]), "preview": True,
                                      "channel": "hotline"})
        else:
            resp = await c.post(f"/api/v1/conversations/{r.choice(s['conversations'])}/messages",
                                headers=self.customer, json={"text": r.choice(["维修进度怎么样了", "师傅什么时候到"])})
        return resp.status_code

    async def run(self, rps: float, seconds: float, warm: bool) -> tuple[dict, dict, float]:
        lat: dict[str, list[float]] = {name: [] for name, _ in MIX}
        errors: dict[str, int] = dict.fromkeys(lat, 0)
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as c:
            # A customer writes in several conversations, not fifty messages a second into one.
            self.s["conversations"] = [(await c.post("/api/v1/conversations", headers=self.customer,
                                                     json={"channel": "web"})).json()["id"] for _ in range(20)]
            if warm:  # warm every server process's caches (regions, policies): a fresh connection each time
                for name, _ in MIX:
                    for _ in range(self.warm_each):
                        async with httpx.AsyncClient(base_url=self.base, timeout=30) as fresh_client:
                            await self.one(fresh_client, name)
            n = int(rps * seconds)
            t0 = time.perf_counter() + 0.05

            async def fire(i: int) -> None:
                due = t0 + i / rps
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                op = self.rnd.choice(self.ops)
                try:
                    code = await self.one(c, op)
                except httpx.HTTPError:
                    code = 599
                lat[op].append(time.perf_counter() - due)  # from the scheduled instant: queueing counts
                if code >= 400:
                    errors[op] += 1
                    self.codes[code] = self.codes.get(code, 0) + 1

            await asyncio.gather(*(fire(i) for i in range(n)))
            took = time.perf_counter() - t0
        return lat, errors, took


def _generate(base: str, s: dict, rps: float, seconds: float, seed_: int,
              warm: bool) -> tuple[dict, dict, float, float]:
    """One load-generating process: its share of the rate, its latencies, and the CPU it used itself."""
    load = Load(base, dict(s), random.Random(seed_))
    if warm:  # an unmeasured second, so that every server process has its caches filled
        asyncio.run(load.run(min(rps, 20), 1, warm=True))
    cpu = time.process_time()
    lat, errors, took = asyncio.run(load.run(rps, seconds, warm=False))
    errors["_codes"] = load.codes  # type: ignore[assignment]
    return lat, errors, took, time.process_time() - cpu


def rate(base: str, s: dict, rps: float, seconds: float, procs: int, warm: bool = False) -> dict:
    """The rate split over ``procs`` generator processes (one Python process cannot send much over 150 req/s)."""
    from concurrent.futures import ProcessPoolExecutor

    if procs == 1:  # in this process: no start-up cost (--quick)
        parts = [_generate(base, s, rps, seconds, 0, warm)]
    else:
        with ProcessPoolExecutor(procs) as pool:
            parts = list(pool.map(_generate, [base] * procs, [s] * procs, [rps / procs] * procs,
                                  [seconds] * procs, range(procs), [warm] * procs))
    lat = {name: [x for p in parts for x in p[0][name]] for name, _ in MIX}
    errors = {name: sum(p[1][name] for p in parts) for name, _ in MIX}
    codes: dict[str, int] = {}
    for p in parts:
        for code, n in p[1]["_codes"].items():
            codes[str(code)] = codes.get(str(code), 0) + n
    took = max(p[2] for p in parts)
    every = sorted(x for v in lat.values() for x in v)
    return {"rps": rps, "achieved_rps": round(len(every) / took, 1), "requests": len(every),
            "errors": sum(errors.values()), "p50_ms": ms(every, 0.5), "p99_ms": ms(every, 0.99),
            "generator_cpu_s": round(sum(p[3] for p in parts), 1), "wall_s": round(took, 1), "error_codes": codes,
            "ops": {op: {"n": len(v), "p50_ms": ms(sorted(v), 0.5), "p99_ms": ms(sorted(v), 0.99),
                         "errors": errors[op]} for op, v in lat.items()}}


def ms(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return round(sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))] * 1e3, 1)


def bend(rows: list[dict]) -> float | None:
    base = rows[0]["p99_ms"] or 1
    for r in rows:
        if (r["p99_ms"] or 0) > 3 * base or r["errors"] > 0.01 * max(1, r["requests"]):
            return r["rps"]
    return None


def copy_tickets(url: str, s: dict, n: int) -> float:
    """N tickets for the demo brand with COPY, spread over 3 years, 10,000 customers; then ANALYZE."""
    import psycopg

    engine = sa.create_engine(url)
    with engine.begin() as c:
        first = c.execute(sa.text("SELECT coalesce(max(id), 0) FROM customers")).scalar_one()
        c.execute(sa.text("INSERT INTO customers (brand_id, name, created_at, language) "
                          "SELECT :b, 'C' || g, now(), 'zh-CN' FROM generate_series(1, 10000) g"), {"b": s["brand_id"]})
        start_id = c.execute(sa.text("SELECT coalesce(max(id), 0) FROM tickets")).scalar_one()
    engine.dispose()
    statuses = ["new", "triaged", "scheduled", "in_progress", "resolved", "closed", "closed", "closed"]
    rnd = random.Random(3)
    t0 = time.perf_counter()
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = datetime.now(UTC)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cols = ("id, brand_id, number, customer_id, channel, category, priority, status, subject, description, "
                "created_at, updated_at")
        batch = 200_000
        for lo in range(0, n, batch):
            buf = io.StringIO()
            for i in range(lo, min(n, lo + batch)):
                tid = start_id + 1 + i
                at = now - timedelta(seconds=(n - i) * (94_608_000 / n))
                buf.write(f"{tid}\t{s['brand_id']}\tLD-{tid:010d}\t{first + 1 + rnd.randrange(10000)}\thotline\t"
                          f"repair\tnormal\t{rnd.choice(statuses)}\t压测\t\t{at.isoformat()}\t{at.isoformat()}\n")
            buf.seek(0)
            with cur.copy(f"COPY tickets ({cols}) FROM STDIN") as cp:
                while chunk := buf.read(1 << 20):
                    cp.write(chunk)
            conn.commit()
        cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT max(id) FROM tickets))")
        cur.execute("ANALYZE tickets")
        conn.commit()
    s["big_customer"] = first + 1
    return time.perf_counter() - t0


def big_reads(base: str, s: dict, samples: int) -> dict:
    h = {"Authorization": f"Bearer {s['agent']}"}
    out = {}
    with httpx.Client(base_url=base, timeout=60) as c:
        cursor = c.get("/api/v1/tickets", params={"limit": 50}, headers=h).json()["next_cursor"]
        cases = {
            "first_page": lambda: c.get("/api/v1/tickets", params={"limit": 50}, headers=h),
            "status_filter": lambda: c.get("/api/v1/tickets", params={"status": "in_progress", "limit": 50},
                                           headers=h),
            "callers_tickets": lambda: c.get("/api/v1/tickets", params={
                "customer_id": s["big_customer"] + random.randrange(10000), "limit": 50}, headers=h),
            "next_page": lambda: c.get("/api/v1/tickets", params={"limit": 50, "cursor": cursor}, headers=h),
            "create": lambda: c.post("/api/v1/tickets", headers=h | {"Idempotency-Key": uuid.uuid4().hex},
                                     json={"customer_id": s["customer_id"], "category": "consultation",
                                           "subject": "压测", "channel": "hotline"}),
        }
        for name, call in cases.items():
            times = []
            for _ in range(samples):
                t = time.perf_counter()
                r = call()
                times.append(time.perf_counter() - t)
                assert r.status_code in (200, 201), r.text
            times.sort()
            out[name] = {"p50_ms": ms(times, 0.5), "p99_ms": ms(times, 0.99)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one low rate for 2 s, 100,000 big tickets")
    ap.add_argument("--databases", default="sqlite,postgresql")
    ap.add_argument("--rates", default=None, help="comma-separated requests per second")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--big-tickets", type=int, default=None, help="tickets for the large-table run (PostgreSQL)")
    ap.add_argument("--generators", type=int, default=None, help="load-generating processes (2; --quick: 1)")
    args = ap.parse_args()
    rates = [float(r) for r in (args.rates or ("40" if args.quick else "25,50,100,150,200,300")).split(",")]
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    big = args.big_tickets if args.big_tickets is not None else (100_000 if args.quick else 10_000_000)
    args.generators = args.generators or (1 if args.quick else 2)
    if args.quick:
        os.environ.setdefault("LOAD_WARM_EACH", "4")
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            url = fresh_database(kind, Path(tmp), BENCH_DB)
            t = time.perf_counter()
            s = seed(url)
            print(f"  {kind}: seeded the demo brand in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            port = free_port()
            proc = start_server(url, port)
            try:
                rows = []
                for i, rps in enumerate(rates):
                    rows.append(rate(f"http://127.0.0.1:{port}", s, rps, seconds, args.generators, warm=i == 0))
                    print(f"  {kind}: {rps:g} req/s → p99 {rows[-1]['p99_ms']} ms, errors {rows[-1]['errors']}",
                          file=sys.stderr)
                out[kind] = {"rates": rows, "bends_at_rps": bend(rows)}
                if kind == "postgresql" and big:
                    took = copy_tickets(url, s, big)
                    print(f"  postgresql: copied {big:,} tickets in {took:.1f} s", file=sys.stderr)
                    out[kind]["big"] = {"tickets": big, "copy_s": round(took, 1),
                                        **big_reads(f"http://127.0.0.1:{port}", s, 20 if args.quick else 100)}
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print(f"\n{'db':<11} {'rate':>6} {'achieved':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'gen cpu':>8}  "
          "per operation p50/p99 ms")
    for kind, r in out.items():
        for row in r["rates"]:
            per = "  ".join(f"{op} {v['p50_ms']}/{v['p99_ms']}" for op, v in row["ops"].items())
            print(f"{kind:<11} {row['rps']:>6g} {row['achieved_rps']:>9} {row['errors']:>7} {row['p50_ms']:>8} "
                  f"{row['p99_ms']:>8} {row['generator_cpu_s'] / row['wall_s']:>8.0%}  {per}")
        print(f"{kind:<11} latency bends at: {r['bends_at_rps'] or 'not within the rates tried'}")
    if "big" in out.get("postgresql", {}):
        b = out["postgresql"]["big"]
        print(f"\nPostgreSQL with {b['tickets']:,} tickets (copied in {b['copy_s']} s): " + ", ".join(
            f"{k} p50 {v['p50_ms']} / p99 {v['p99_ms']} ms" for k, v in b.items() if isinstance(v, dict)))
    print(json.dumps({"benchmark": "load", "quick": args.quick, "rates": rates, "seconds": seconds, "results": out},
                     default=str))


if __name__ == "__main__":
    main()
