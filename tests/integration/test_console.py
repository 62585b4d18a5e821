"""The hotline console: a caller looked up by any spelling of their number, a new request in one screen for a
known or a new caller (safe to submit twice), intent hints while the agent types, the queue."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Seed
from tests.integration.test_web import csrf_of, login


def test_an_agent_takes_a_call_from_lookup_to_a_new_request(client: TestClient, seed: Seed) -> None:
    login(client, "agent_a", "agent_a-password")
    page = client.get("/console", params={"phone": "138 0013 8000"})
    assert page.status_code == 200 and "张丽" in page.text
    assert "+8613800138000" in page.text and "福建省漳州市漳浦县****" in page.text  # the street stays masked
    key = page.text.split('name="key" value="')[1].split('"')[0]
    form = {"csrf": csrf_of(page.text), "key": key, "customer_id": str(seed.alice), "unit_id": str(seed.alice_unit),
            "category": "repair", "priority": "high", "subject": "密码面板无反应", "description": "按键没有反应"}
    first = client.post("/console/tickets", data=form, follow_redirects=False)
    again = client.post("/console/tickets", data=form, follow_redirects=False)  # a double click
    assert first.status_code == again.status_code == 303 and first.headers["location"] == again.headers["location"]
    ticket = client.get(first.headers["location"])
    assert "密码面板无反应" in ticket.text
    assert len(client.get("/api/v1/tickets", headers=seed.auth("agent_a")).json()["items"]) == 1


def test_a_new_caller_gets_a_customer_and_a_request_in_the_same_screen(client: TestClient, seed: Seed) -> None:
    login(client, "agent_a", "agent_a-password")
    page = client.get("/console", params={"phone": "13700001111"})
    assert "新客户" in page.text
    r = client.post("/console/tickets", data={
        "csrf": csrf_of(page.text), "key": "k1", "name": "王五", "phone": "13700001111",
        "address": "北京市朝阳区建国路88号",
        "category": "installation", "priority": "normal", "subject": "新购保险柜上门安装"}, follow_redirects=False)
    assert r.status_code == 303
    found = client.get("/api/v1/customers", params={"phone": "13700001111"}, headers=seed.auth("agent_a")).json()
    assert [c["name"] for c in found["items"]] == ["王五"]
    bad = client.post("/console/tickets", data={"csrf": csrf_of(page.text), "key": "k2", "category": "repair",
                                                 "priority": "normal", "subject": "x"})
    assert bad.status_code == 422
    wrong = client.get("/console", params={"phone": "12"})
    assert wrong.status_code == 200 and 'role="alert"' in wrong.text  # a clear message, the form still there


def test_intent_hints_while_typing(client: TestClient, seed: Seed) -> None:
    login(client, "agent_a", "agent_a-password")
    token = csrf_of(client.get("/console").text)
    hint = client.post("/console/intent", data={"subject": "我要退订延保", "description": "不想续费了", "csrf": token})
    assert hint.status_code == 200 and 'id="intent-hint"' in hint.text and "不得劝阻" in hint.text
    repair = client.post("/console/intent", data={"subject": "保险柜打不开了", "csrf": token})
    assert "维修" in repair.text or "repair" in repair.text
    client.cookies.clear()
    login(client, "alice", "alice-password")
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_the_console_lists_the_agents_own_open_requests(client: TestClient, seed: Seed) -> None:
    from tests.integration.test_api_tickets import open_ticket

    with_agent = seed.auth("manager_a")
    ids = [open_ticket(client, seed, subject=f"回访 {i}").json()["id"] for i in range(3)]
    me = client.get("/api/v1/me", headers=seed.auth("agent_a")).json()["user_id"]
    for tid in ids[:2]:
        assert client.put(f"/api/v1/tickets/{tid}/assignee", headers=with_agent,
                          json={"assignee_id": me}).status_code == 200
    client.post(f"/api/v1/tickets/{ids[1]}/transitions", headers=with_agent, json={"to": "cancelled"})
    login(client, "agent_a", "agent_a-password")
    mine = client.get("/console").text.split('id="my-queue"')[1].split("</ul>")[0]
    assert "回访 0" in mine and "回访 1" not in mine and "回访 2" not in mine  # own and still open only


def test_a_new_caller_s_unit_is_registered_with_the_request_so_it_can_be_dispatched(client: TestClient,
                                                                                     seed: Seed) -> None:
    login(client, "agent_a", "agent_a-password")
    page = client.get("/console", params={"phone": "13700002222"})
    assert 'name="product_model"' in page.text and "家用保险柜（AG-3050）" in page.text
    r = client.post("/console/tickets", data={
        "csrf": csrf_of(page.text), "key": "u1", "name": "赵六", "phone": "13700002222",
        "address": "福建省漳州市漳浦县府前街20号", "product_model": "AG-3050", "serial_number": "SN-7777",
        "category": "repair", "priority": "normal", "subject": "密码面板无反应"}, follow_redirects=False)
    assert r.status_code == 303
    ticket = client.get(f"/api/v1{r.headers['location']}", headers=seed.auth("agent_a")).json()
    assert ticket["unit_id"] is not None


def test_a_refused_submit_keeps_everything_typed_and_says_why_beside_the_field(client: TestClient,
                                                                               seed: Seed) -> None:
    login(client, "agent_a", "agent_a-password")
    page = client.get("/console", params={"phone": "13700003333"})
    form = {"csrf": csrf_of(page.text), "key": "r1", "name": "钱七", "phone": "1370000", "address": "北京市朝阳区",
            "category": "repair", "priority": "high", "subject": "柜门打不开", "description": "昨晚开始的"}
    bad_phone = client.post("/console/tickets", data=form)
    assert bad_phone.status_code == 422
    assert '<p class="error" id="phone-error" role="alert">电话号码无效</p>' in bad_phone.text
    for typed in ('value="钱七"', 'value="柜门打不开"', ">昨晚开始的</textarea>", 'value="1370000"',
                  '<option value="high" selected>'):
        assert typed in bad_phone.text, typed
    assert "customer.invalid_phone" not in bad_phone.text and "not a valid phone" not in bad_phone.text
    assert client.get("/api/v1/customers", params={"phone": "13700003333"},
                      headers=seed.auth("agent_a")).json()["items"] == []  # nothing saved
    # A serial that is someone else's: the caller is saved, the request is not; the agent fixes the serial only.
    taken = client.post("/console/tickets", data=form | {"phone": "13700003333", "product_model": "AG-3050",
                                                         "serial_number": "SN-0001"})
    assert taken.status_code == 422 and 'id="serial_number-error"' in taken.text and "该序列号已登记" in taken.text
    saved = client.get("/api/v1/customers", params={"phone": "13700003333"}, headers=seed.auth("agent_a")).json()
    [caller] = saved["items"]
    assert f'name="customer_id" value="{caller["id"]}" checked' in taken.text
    done = client.post("/console/tickets", data=form | {"customer_id": str(caller["id"]), "product_model": "AG-3050",
                                                        "serial_number": "SN-8888", "csrf": csrf_of(taken.text)},
                       follow_redirects=False)
    assert done.status_code == 303
    again = client.get("/api/v1/customers", params={"phone": "13700003333"}, headers=seed.auth("agent_a")).json()
    assert len(again["items"]) == 1  # no second customer


def test_the_number_and_the_address_are_checked_as_they_are_typed(client: TestClient, seed: Seed,
                                                                   wired) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.field import make_field

    make_field(wired, seed)
    login(client, "agent_a", "agent_a-password")
    ok = client.get("/console/phone", params={"phone": "+86 138-0013-8000"})
    assert "✓ 138 0013 8000" in ok.text
    assert "电话号码无效" in client.get("/console/phone", params={"phone": "12345"}).text
    where = client.get("/console/resolve", params={"address": "福建省漳州市漳浦县绥安镇"})
    assert "漳浦县" in where.text and "漳浦服务网点" in where.text
    nowhere = client.get("/console/resolve", params={"address": "新疆维吾尔自治区喀什地区塔什库尔干塔吉克自治县"})
    assert "该区县暂无服务网点覆盖" in nowhere.text


def test_an_agent_books_moves_and_cancels_the_visit_from_the_ticket(client: TestClient, seed: Seed,
                                                                     wired) -> None:  # type: ignore[no-untyped-def]
    import re

    from tests.integration.field import make_field

    f = make_field(wired, seed)
    login(client, "agent_a", "agent_a-password")
    ticket = client.get(f"/tickets/{f.ticket}")
    assert f'href="/tickets/{f.ticket}/visit" id="visit-link"' in ticket.text
    page = client.get(f"/tickets/{f.ticket}/visit")
    windows = re.findall(r'name="window" value="([^"]+)"', page.text)
    assert windows and f'action="/tickets/{f.ticket}/visit"' in page.text
    booked = client.post(f"/tickets/{f.ticket}/visit", data={"window": windows[0], "csrf": csrf_of(page.text)},
                         follow_redirects=True)
    assert 'id="visit-window"' in booked.text and "Wang" in booked.text
    assert client.get(f"/api/v1/tickets/{f.ticket}", headers=seed.auth("agent_a")).json()["status"] == "scheduled"
    ask = client.get(f"/tickets/{f.ticket}/do/cancel_visit")
    assert "退回待派单" in ask.text
    done = client.post(f"/tickets/{f.ticket}/do/cancel_visit", data={"confirm": "yes", "csrf": csrf_of(ask.text)},
                       follow_redirects=True)
    assert 'id="visit-window"' not in done.text
    assert client.get(f"/api/v1/tickets/{f.ticket}", headers=seed.auth("agent_a")).json()["status"] == "triaged"
    # A customer's own visit stays under /my; a customer cannot reach the staff path.
    client.cookies.clear()
    login(client, "alice", "alice-password")
    r = client.get(f"/tickets/{f.ticket}/visit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/my/tickets/{f.ticket}/visit"
