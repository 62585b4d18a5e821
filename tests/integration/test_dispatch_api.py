"""The field over HTTP: set-up by API, a visit from windows to check-out, problems for bad input, imports."""

from __future__ import annotations

import io

import openpyxl
import pytest
from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from fairdesk.services import identity
from tests.conftest import Seed
from tests.integration.field import Field, make_field


@pytest.fixture
def f(wired: App, seed: Seed) -> Field:
    return make_field(wired, seed)


def problem(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["title"] and body["detail"] is not None, body


def test_set_up_and_run_a_visit_over_http(client: TestClient, wired: App, seed: Seed) -> None:
    m = seed.auth("manager_a")
    client.post("/api/v1/network/outlets", headers=m,
                json={"code": "ZP-01", "name": "漳浦", "address": "福建省漳州市漳浦县"})
    client.post("/api/v1/network/outlets/ZP-01/areas", headers=m, json={"text": "漳浦县"})
    r = client.post("/api/v1/technicians", headers=m, json={
        "username": "wu", "display_name": "吴师傅", "outlet_code": "ZP-01", "weekdays": "1-7",
        "shifts": "08:00-12:00,13:00-20:00", "home_latitude": 24.1, "home_longitude": 117.6})
    assert r.status_code == 201, r.text
    wu = r.json()["id"]
    assert r.json()["shifts"] == "08:00-12:00,13:00-20:00" and r.json()["weekdays"] == "1,2,3,4,5,6,7"
    r = client.post(f"/api/v1/technicians/{wu}/certifications", headers=m, json={
        "product_line": "home-safe", "level": 2, "valid_from": "2026-01-01", "valid_to": "2027-06-30"})
    assert r.status_code == 201
    assert client.post("/api/v1/parts", headers=m, json={"sku": "LOCK-3050", "name": "电子锁", "unit_cost": "120.00",
                                                          "models": ["AG-3050"]}).status_code == 201
    assert client.post("/api/v1/stock-locations", headers=m, json={"code": "VAN-WU", "name": "吴师傅车", "kind": "van",
                                                                   "technician_id": wu}).status_code == 201
    assert client.post("/api/v1/stock/movements", headers=m, json={"kind": "receive", "sku": "LOCK-3050", "qty": 2,
                                                                    "to_location": "VAN-WU"}).status_code == 201
    ticket = client.post("/api/v1/tickets", headers=seed.auth("agent_a"), json={
        "customer_id": seed.alice, "channel": "hotline", "category": "repair", "subject": "锁坏了",
        "unit_id": seed.alice_unit, "address_id": _address(client, seed)}).json()
    windows = client.get(f"/api/v1/tickets/{ticket['id']}/windows?days=1", headers=seed.auth("alice")).json()
    assert windows[0]["starts_at"] == "2026-11-24T13:00:00+08:00"  # 10:00 now: 08-10 begun, 10-12 within the hour
    # The customer books the window they chose, in one call, with the part reserved.
    r = client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers={**seed.auth("alice"), "Idempotency-Key": "b1"},
                    json={"starts_at": windows[1]["starts_at"], "ends_at": windows[1]["ends_at"],
                          "parts": [{"sku": "LOCK-3050", "qty": 1}]})
    assert r.status_code == 201, r.text
    visit = r.json()
    again = client.post(f"/api/v1/tickets/{ticket['id']}/dispatch",
                        headers={**seed.auth("alice"), "Idempotency-Key": "b1"},
                        json={"starts_at": windows[1]["starts_at"], "ends_at": windows[1]["ends_at"],
                              "parts": [{"sku": "LOCK-3050", "qty": 1}]})
    assert again.status_code == 201 and again.json()["id"] == visit["id"]
    assert len(client.get(f"/api/v1/tickets/{ticket['id']}/visits", headers=m).json()) == 1
    token = identity.issue_token(wired.uows(), wired.clock, "wu")
    tech = {"Authorization": f"Bearer {token}"}
    board = client.get("/api/v1/dispatch/board?day=2026-11-24", headers=tech).json()
    assert [v["id"] for v in board[0]["visits"]] == [visit["id"]]
    wired.clock.advance(hours=5)
    assert client.post(f"/api/v1/visits/{visit['id']}/check-in", headers=tech).json()["status"] == "on_site"
    done = client.post(f"/api/v1/visits/{visit['id']}/check-out", headers=tech,
                       json={"work_done": "更换电子锁", "parts_used": [{"sku": "LOCK-3050", "qty": 1}]}).json()
    assert done["status"] == "completed" and done["parts"][0]["status"] == "consumed"
    stock = client.get("/api/v1/stock?location=VAN-WU", headers=m).json()
    assert stock[0]["on_hand"] == 1 and stock[0]["reserved"] == 0
    assert client.get("/api/v1/stock/verify", headers=m).json()["ok"] is True
    assert [e["kind"] for e in client.get("/api/v1/stock/ledger", headers=m).json()] == ["consume", "reserve",
                                                                                          "receive"]
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=m).json()["status"] == "resolved"
    assert client.get("/api/v1/dispatch/scoring").json()["weights"]["per_km"] == 1.0


def _address(client: TestClient, seed: Seed) -> int:
    return client.get(f"/api/v1/customers/{seed.alice}", headers=seed.auth("agent_a")).json()["addresses"][0]["id"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"parts": [{"sku": "LOCK-3050", "qty": 1.5}]}, 422, "input.invalid"),
    ({"parts": [{"sku": "LOCK-3050", "qty": -1}]}, 422, "input.invalid"),
    ({"parts": [{"sku": "LOCK-3050", "qty": "2"}]}, 422, "input.invalid"),
    ({"starts_at": "2026-11-24T08:00:00+08:00", "ends_at": "2026-11-24T10:00:00+08:00"}, 422, "dispatch.window_past"),
    ({"starts_at": "2026-11-25T09:00:00", "ends_at": "2026-11-25T11:00:00"}, 422, "input.invalid"),
    ({"starts_at": "2026-11-25T09:00:00+08:00"}, 422, "dispatch.window"),
    ({"technician_id": "LI", "reason": "x"}, 422, "input.invalid"),
])
def test_bad_dispatch_input_is_a_problem_and_changes_nothing(client: TestClient, seed: Seed, f: Field, body: dict,
                                                             status: int, code: str) -> None:
    r = client.post(f"/api/v1/tickets/{f.ticket}/dispatch", headers=seed.auth("manager_a"), json=body)
    problem(r, status, code)
    assert client.get(f"/api/v1/tickets/{f.ticket}/visits", headers=seed.auth("manager_a")).json() == []


def test_forcing_an_expired_certificate_is_refused(client: TestClient, seed: Seed, f: Field) -> None:
    r = client.post(f"/api/v1/tickets/{f.ticket}/dispatch", headers=seed.auth("manager_a"), json={
        "technician_id": f.li, "reason": "客户点名", "starts_at": "2026-11-25T09:00:00+08:00",
        "ends_at": "2026-11-25T11:00:00+08:00"})
    problem(r, 422, "dispatch.not_certified")
    r = client.get("/api/v1/stock?sku=LOCK-3050", headers=seed.auth("manager_a")).json()
    assert r[0]["reserved"] == 0


CSV_TECHS = ("username,display_name,outlet_code,weekdays,home_latitude,home_longitude\n"
             "zhou,周师傅,ZP-01,1-6,24.1,117.6\n"
             "qian,钱师傅,NOPE,1-5,,\n"
             "sun,孙师傅,ZP-01,8,,\n")


def test_csv_import_reports_each_bad_row_and_changes_nothing_unless_partial(client: TestClient, seed: Seed,
                                                                          f: Field) -> None:
    m = {**seed.auth("manager_a"), "Content-Type": "text/csv"}
    r = client.post("/api/v1/imports/technicians", headers=m, content=CSV_TECHS.encode())
    report = r.json()
    assert r.status_code == 200 and report["applied"] is False and report["imported"] == 0
    assert [(e["row"], e["code"]) for e in report["errors"]] == [(3, "outlet.not_found"), (4, "technician.weekdays")]
    names = {t["username"] for t in client.get("/api/v1/technicians", headers=m).json()}
    assert "zhou" not in names
    r = client.post("/api/v1/imports/technicians?partial=true", headers=m, content=CSV_TECHS.encode("gb18030"))
    assert r.json()["applied"] is True and r.json()["imported"] == 1
    assert "zhou" in {t["username"] for t in client.get("/api/v1/technicians", headers=m).json()}


def test_xlsx_import_of_certificates_and_stock(client: TestClient, seed: Seed, f: Field) -> None:
    def xlsx(rows: list[list[object]]) -> bytes:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    import datetime as dt
    m = seed.auth("manager_a")
    r = client.post("/api/v1/imports/certifications", headers=m, content=xlsx([
        ["username", "product_line", "level", "valid_from", "valid_to", "number"],
        ["li", "home-safe", 2, dt.date(2026, 11, 1), dt.date(2028, 10, 31), "CERT-L2"]]))
    assert r.json() == {"kind": "certifications", "rows": 1, "imported": 1, "applied": True, "errors": []}
    ranked = client.get(f"/api/v1/tickets/{f.ticket}/candidates?limit=50", headers=m).json()
    assert f.li in {c["technician_id"] for c in ranked}  # renewed certificate: li is eligible again
    r = client.post("/api/v1/imports/stock", headers=m, content=xlsx([
        ["location", "sku", "qty", "serials", "reorder_point", "reorder_qty"],
        ["WH-FJ", "LOCK-3050", 10, None, 3, 10],
        ["WH-FJ", "PANEL-3050", 2, "P-0100;P-0101", None, None],
        ["WH-FJ", "LOCK-3050", 2.5, None, None, None]]))
    assert r.json()["applied"] is False and r.json()["errors"][0]["row"] == 4
    r = client.post("/api/v1/imports/stock?partial=true", headers=m, content=xlsx([
        ["location", "sku", "qty", "serials", "reorder_point", "reorder_qty"],
        ["WH-FJ", "LOCK-3050", 10, None, 3, 10], ["WH-FJ", "PANEL-3050", 2, "P-0100;P-0101", None, None]]))
    assert r.json()["imported"] == 2
    stock = {(s["location"], s["sku"]): s["on_hand"] for s in client.get("/api/v1/stock", headers=m).json()}
    assert stock[("WH-FJ", "LOCK-3050")] == 10 and stock[("WH-FJ", "PANEL-3050")] == 4
    problem(client.post("/api/v1/imports/stock", headers=m, content=b"PK\x03\x04garbage"), 422, "import.bad_xlsx")
    problem(client.post("/api/v1/imports/stock", headers=seed.auth("agent_a"), content=b"x"), 403, "access.role")
