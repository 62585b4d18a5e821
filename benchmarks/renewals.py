"""One day's renewals and reminders for N subscriptions on SQLite and PostgreSQL: time and peak memory.

    python benchmarks/renewals.py            # 100,000 and 1,000,000 subscriptions
    python benchmarks/renewals.py --quick    # 20,000 and 100,000, < 30 s on SQLite only

Monthly plans whose renewal dates are spread evenly over 30 days, so one day's sweep renews about 1/30 of
them and reminds the next 1/30 (those renewing five days ahead; the four days before were reminded on
earlier days). The sweep runs in a fresh process; peak RSS is that process's. Two sizes are run so that
"memory stays flat as the table grows" can be read off the table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fairdesk.adapters.db import tables as t  # noqa: E402
from fairdesk.adapters.db.migrate import upgrade  # noqa: E402
from fairdesk.domain.plans import BillingPeriod, ChangePolicy, SubscriptionStatus  # noqa: E402

PG_ADMIN = os.environ.get("FAIRDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # midnight in Shanghai


def fill(url: str, n: int) -> None:
    """n subscriptions, reminders already sent for those renewing in the next four days."""
    upgrade(url)
    engine = sa.create_engine(url)
    rng = random.Random(7)
    with engine.begin() as c:
        brand = c.execute(sa.insert(t.brands).values(code="bench", name="Bench", ticket_prefix="BN",
                                                     created_at=NOW).returning(t.brands.c.id)).scalar_one()
        customer = c.execute(sa.insert(t.customers).values(brand_id=brand, name="张伟", created_at=NOW)
                             .returning(t.customers.c.id)).scalar_one()
        c.execute(sa.insert(t.plan_families).values(brand_id=brand, code="care", name="Care",
                                                    policy=ChangePolicy.IMMEDIATE, save_offer=""))
        c.execute(sa.insert(t.plans).values(brand_id=brand, code="care-basic", family="care", name="Basic",
                                            price=Decimal("9.90"), period=BillingPeriod.MONTH, features="[]",
                                            retired=False, terms_version="1"))
    rows, reminders = [], []
    chunk = 50_000
    for i in range(n):
        end = NOW - timedelta(days=1) + timedelta(seconds=rng.randrange(30 * 86400))
        start = end - timedelta(days=30)
        rows.append({"brand_id": brand, "customer_id": customer, "plan_code": "care-basic", "period_start": start,
                     "period_end": end, "paid_since": start, "paid_amount": Decimal("9.90"),
                     "payment_method": "alipay", "auto_renew": True, "status": SubscriptionStatus.ACTIVE,
                     "pending_plan_code": None, "cancel_at_period_end": False, "ended_at": None,
                     "offer_shown": False, "version": 1, "created_at": start})
        if NOW < end <= NOW + timedelta(days=4):
            reminders.append((i + 1, end))
        if len(rows) == chunk or i == n - 1:
            with engine.begin() as c:
                c.execute(sa.insert(t.subscriptions), rows)
            rows = []
    with engine.begin() as c:
        for k in range(0, len(reminders), chunk):
            c.execute(sa.insert(t.reminders), [{"brand_id": brand, "subscription_id": sid, "kind": "renewal",
                                                "for_period_end": end, "sent_at": NOW - timedelta(days=1)}
                                               for sid, end in reminders[k:k + chunk]])
        if engine.dialect.name == "postgresql":
            c.execute(sa.text("ANALYZE"))
    engine.dispose()


def sweep(url: str) -> None:
    """Run in a child process: one renewal sweep, then print its time and peak RSS as JSON."""
    from fairdesk.bootstrap import bootstrap
    from fairdesk.config import load_settings
    from fairdesk.services import plans as plans_svc

    class Clock:
        tz = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")

        def now(self) -> datetime:
            return NOW

    app = bootstrap(load_settings(database_url=url, demo=True), clock=Clock())
    before = _memory_kb("VmRSS")
    started = time.perf_counter()
    run = plans_svc.run_renewals(app.uows, app.clock)
    seconds = time.perf_counter() - started
    peak = _memory_kb("VmHWM")
    print(json.dumps({"seconds": seconds, "renewed": run.renewed, "reminded": run.reminded,
                      "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024}))


def _memory_kb(field: str) -> int:
    """From /proc/self/status: unlike ru_maxrss, VmHWM is not inherited from the parent across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def database(kind: str, tmp: Path) -> tuple[str, object]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'r-{uuid.uuid4().hex[:6]}.db'}", None
    name = f"fairdesk_renew_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), (admin, name)


def drop(handle: object) -> None:
    if handle:
        admin, name = handle  # type: ignore[misc]
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pg_up() -> bool:
    try:
        e = sa.create_engine(PG_ADMIN, connect_args={"connect_timeout": 3})
        with e.connect():
            pass
        return True
    except Exception:
        return False


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--sweep":
        sweep(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", default=None, help="comma-separated subscription counts")
    parser.add_argument("--databases", default=None)
    args = parser.parse_args()
    sizes = [int(x) for x in (args.sizes or ("20000,100000" if args.quick else "100000,1000000")).split(",")]
    kinds = (args.databases or ("sqlite" if args.quick else "sqlite,postgresql")).split(",")
    kinds = [k for k in kinds if k == "sqlite" or pg_up()]
    results = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for kind in kinds:
            for n in sizes:
                url, handle = database(kind, Path(tmpdir))
                try:
                    t0 = time.perf_counter()
                    fill(url, n)
                    load_s = time.perf_counter() - t0
                    out = subprocess.run([sys.executable, __file__, "--sweep", url], capture_output=True,
                                         text=True, check=True, env=os.environ | {"PYTHONPATH": str(ROOT / "src")})
                    r = json.loads(out.stdout.strip().splitlines()[-1])
                    results.append({"db": kind, "subscriptions": n, "load_s": round(load_s, 1)}
                                   | {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()})
                finally:
                    drop(handle)
    print("\none day's renewal sweep (target: < 60 s at 1,000,000 subscriptions, memory flat)\n")
    print(f"{'db':<11}{'subscriptions':>14}{'renewed':>9}{'reminded':>10}{'sweep s':>9}{'peak MB':>9}{'growth MB':>11}")
    for r in results:
        print(f"{r['db']:<11}{r['subscriptions']:>14,}{r['renewed']:>9,}{r['reminded']:>10,}{r['seconds']:>9.1f}"
              f"{r['peak_mb']:>9.0f}{r['growth_mb']:>11.0f}")
    print(json.dumps({"now": NOW.isoformat(), "results": results}))


if __name__ == "__main__":
    main()
