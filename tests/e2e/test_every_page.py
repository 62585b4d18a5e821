"""Every main page of every role, in headless Chromium against the demo: a screenshot of each (test-artifacts/
screenshots/page-*.png), no violation of axe-core's WCAG 2 A/AA rules or best practices rated moderate or worse,
and nothing wider than the screen on a phone."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import axe_violations, login, shot

PHONE = {"width": 375, "height": 740}
DESK = {"width": 1280, "height": 800}
DAY = "2026-12-02"  # the demo's day (DEMO_AT)


def _first_href(page, pattern: str) -> str:  # type: ignore[no-untyped-def]
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
        if re.fullmatch(pattern, href or ""):
            return href
    raise AssertionError(f"no link like {pattern} on {page.url}")


def _pages(page, role: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(name, path) of the role's main pages; ids are found by following the pages' own links."""
    if role == "public":
        return [("login", "/login"), ("channel-check", "/check?value=400-888-6666"),
                ("transparency", "/transparency/angu"), ("credit", "/brands/angu/credit"),
                ("credit-method", "/credit/method")]
    if role == "customer":
        page.goto("/my")
        ticket = _first_href(page, r"/tickets/\d+")
        page.goto("/my/plans")
        change = _first_href(page, r"/my/plans/\d+/change\?to=.+")
        page.goto("/my/complaints")
        complaint = _first_href(page, r"/my/complaints/\d+")
        return [("my-requests", "/my"), ("request", ticket), ("visit", ticket.replace("/tickets/", "/my/tickets/")
                                                                   + "/visit"),
                ("request-cancel", ticket.replace("/tickets/", "/my/tickets/") + "/do/cancel"),
                ("repair", "/my/repair"), ("chat", "/my/chat"), ("plans", "/my/plans"), ("plan-change", change),
                ("complaints", "/my/complaints"), ("complaint", complaint)]
    if role == "agent":
        page.goto("/tickets")
        ticket = _first_href(page, r"/tickets/\d+")
        page.goto("/complaints")
        complaint = _first_href(page, r"/complaints/\d+")
        return [("tickets", "/tickets"), ("ticket", ticket), ("console", "/console?phone=13800138000"),
                ("complaint-queue", "/complaints"), ("complaint", complaint)]
    if role == "dispatcher":
        return [("board", f"/dispatch?day={DAY}"), ("runs", "/runs")]
    if role == "technician":
        return [("my-day", f"/my-day?day={DAY}")]
    if role == "manager":
        return [("dashboard", "/dashboard"), ("runs", "/runs"), ("calendar", "/calendar")]
    return [("dashboard", "/dashboard")]  # auditor


ROLES = [("public", None, DESK), ("customer", "demo-customer", PHONE), ("agent", "demo-agent", DESK),
         ("dispatcher", "demo-dispatcher", DESK), ("technician", "demo-technician", PHONE),
         ("manager", "demo-manager", DESK), ("auditor", "demo-auditor", DESK)]


@pytest.mark.parametrize(("role", "password", "viewport"), ROLES, ids=[r[0] for r in ROLES])
def test_every_main_page_is_accessible_and_fits(browser, server, role: str, password: str | None,  # type: ignore[no-untyped-def]
                                                viewport: dict[str, int]) -> None:
    context = browser.new_context(base_url=server, viewport=viewport, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    if password:
        login(page, role, password)
    problems: dict[str, list[str]] = {}
    for name, path in _pages(page, role):
        response = page.goto(path)
        assert response is not None and response.status == 200, (role, path, response and response.status)
        if name == "dashboard":
            page.wait_for_selector("#chart-coverage[data-ready='1'] svg", timeout=15_000)
        shot(page, f"page-{role}-{name}")
        found = axe_violations(page)
        if viewport is PHONE and page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            found.append(f"wider than the phone: {page.evaluate('document.documentElement.scrollWidth')} px")
        broken = page.eval_on_selector_all("header nav a", "els => els.filter(e => e.getBoundingClientRect().height"
                                                          " > 2 * parseFloat(getComputedStyle(e).fontSize))"
                                                          ".map(e => e.textContent)")
        if broken:  # a link broken over lines (at 375 px they once stood one character per line)
            found.append(f"navigation links broken over lines: {broken}")
        if found:
            problems[f"{name} {path}"] = found
    context.close()
    assert problems == {}, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in problems.items())


@pytest.mark.parametrize("path", ["/transparency/angu", "/brands/angu/credit"])
def test_public_tables_keep_their_labels_on_a_phone(browser, server, path: str) -> None:  # type: ignore[no-untyped-def]
    """At 375 px a table is one card per row: every figure still says which column it is."""
    context = browser.new_context(base_url=server, viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(path)
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('table.list tbody td:not(:first-child)')]
        .filter(td => td.textContent.trim() && getComputedStyle(td, '::before').content in {'none': 1, 'normal': 1})
        .map(td => td.textContent.trim())""")
    labelled = page.evaluate("""() => [...document.querySelectorAll('table.list tbody td:not(:first-child)')]
        .filter(td => td.textContent.trim()).map(td => getComputedStyle(td, '::before').content)""")
    context.close()
    assert labelled and unlabeled == [], unlabeled
    assert any("：" in label for label in labelled)
