"""A real `fairdesk demo` server and Debian's headless Chromium driven by Playwright.

No browser is downloaded: Playwright drives the Chromium at FAIRDESK_CHROMIUM (default /usr/bin/chromium,
Debian's `chromium` package). Without it these tests are skipped with the reason, except under CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("FAIRDESK_CHROMIUM", "/usr/bin/chromium")
#: The demo's clock starts at 07:00 on a working Wednesday and runs on: the technician can check in to the first
#: visit (08:30) and both of the outlet's technicians work that day, whenever and wherever the tests run.
DEMO_AT = "2026-12-02T07:00:00+08:00"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where `fairdesk demo` keeps its database, its e-mail Maildir and its SMS file."""
    return tmp_path_factory.mktemp("demo")


@contextmanager
def running_demo(demo_dir: Path, at: str) -> Iterator[str]:
    """A `fairdesk demo` server (and its worker) with its clock started at ``at``; yields its base URL."""
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRDESK_")}
    # Every journey signs in, all from 127.0.0.1: more than the 20 a minute one address may (the limit itself is
    # tested in tests/integration/test_security.py).
    env["FAIRDESK_RATE_LIMIT_LOGIN"] = "600/minute"
    # The server's and its worker's logs go to a file: a pipe nobody reads fills up after ~64 KB of request logs
    # and then blocks every process writing to it (the worker stopped delivering SMS mid-session that way).
    log_path = demo_dir / "demo.log"
    log_file = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "fairdesk", "demo", "--dir", str(demo_dir), "--port", str(port),
                             "--at", at], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"demo server did not start: {log_path.read_text('utf-8', 'replace')[-2000:]}")
        time.sleep(0.3)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log_file.close()


@pytest.fixture(scope="session")
def server(demo_dir: Path) -> Iterator[str]:
    with running_demo(demo_dir, DEMO_AT) as base:
        yield base


@pytest.fixture(scope="session")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The page's violations of axe-core's WCAG 2 A/AA rules and best practices, moderate or worse, as readable
    lines. The context must bypass the CSP (our pages allow only our own scripts; axe is the test's)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
                                                     values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}});
        return r.violations.filter(v => ['moderate', 'serious', 'critical'].includes(v.impact))
            .map(v => v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return list(found)
