"""The README's "Running in production" section, followed from scratch on PostgreSQL: its two shell blocks are
taken from README.md and run as written (only the database name and the port changed), then the installation
is used over HTTP, and the backup is restored into a fresh database whose evidence chain verifies."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_reason
from tests.integration.test_processes import free_port, wait_healthy

README = Path(__file__).resolve().parents[2] / "README.md"
BASH = shutil.which("bash") or "/bin/bash"


def block(name: str) -> str:
    text = README.read_text("utf-8")
    m = re.search(rf"<!-- {name}:start -->\n```bash\n(.*?)```\n<!-- {name}:end -->", text, re.S)
    assert m, f"README.md has no {name} block"
    return m.group(1)


@pytest.mark.postgres
def test_the_production_section_works_from_scratch(tmp_path: Path) -> None:
    reason = _pg_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    url = sa.make_url(PG_ADMIN_URL)
    if url.host not in ("127.0.0.1", "localhost") or url.port not in (None, 5432) or url.username != "postgres":
        pytest.skip("the README's commands address the local server as user postgres")
    db, port = f"fdprod_{uuid.uuid4().hex[:8]}", free_port()
    setup = block("production")
    assert setup.startswith("DB=fairdesk PORT=8000")
    script = f"set -euo pipefail\nDB={db} PORT={port}\n" + setup.split("\n", 1)[1]
    script += "\necho $! > worker.pid\nwait\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDESK_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # the installed `fairdesk` command
    proc = subprocess.Popen([BASH, "-c", script], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, seconds=90)
        health = httpx.get(base + "/healthz").json()
        assert health["database"] == "postgresql"
        token = httpx.post(base + "/api/v1/auth/token", json={"username": "admin", "password": "a-long-password"})
        assert token.status_code == 201, token.text
        auth = {"Authorization": f"Bearer {token.json()['token']}"}
        customer = httpx.post(base + "/api/v1/customers", headers=auth,
                              json={"name": "张伟", "phones": ["13800138000"]})
        ticket = httpx.post(base + "/api/v1/tickets", headers=auth | {"Idempotency-Key": "readme-1"},
                            json={"customer_id": customer.json()["id"], "category": "repair",
                                  "subject": "密码面板无反应"})
        assert ticket.status_code == 201, ticket.text
        assert (tmp_path / "worker.pid").exists() and _alive(int((tmp_path / "worker.pid").read_text()))
        backup = subprocess.run([BASH, "-c", f"set -euo pipefail\nDB={db}\n" + block("backup")], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=180)
        assert backup.returncode == 0, backup.stdout + backup.stderr
        assert "intact" in backup.stdout.lower() or "ok" in backup.stdout.lower(), backup.stdout
        restored = sa.create_engine(url.set(database=f"{db}_restored"))
        with restored.connect() as conn:
            numbers = conn.execute(sa.text("SELECT number FROM tickets")).scalars().all()
        restored.dispose()
        assert numbers == [ticket.json()["number"]]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (db, f"{db}_restored"):
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
