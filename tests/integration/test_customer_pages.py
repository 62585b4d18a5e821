"""The customer's repair on the web: report it with the address resolved as typed, pick a window, see the
technician, move the visit, cancel it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fairdesk.bootstrap import App
from tests.conftest import Seed
from tests.integration.field import make_field
from tests.integration.test_web import csrf_of, login


def test_a_customer_reports_a_repair_picks_a_window_moves_it_and_cancels(client: TestClient, seed: Seed,
                                                                        wired: App) -> None:
    f = make_field(wired, seed)
    login(client, "alice", "alice-password")
    form = client.get("/my/repair")
    assert form.status_code == 200 and "SN-0001" in form.text
    resolved = client.get("/my/resolve", params={"address": "福建省漳州市漳浦县府前街18号"})
    assert "✓ 福建省 漳州市 漳浦县" in resolved.text
    assert "暂未识别" in client.get("/my/resolve", params={"address": "火星基地一号"}).text
    r = client.post("/my/repair", data={"category": "repair", "subject": "密码面板无反应",
                                        "unit_id": str(seed.alice_unit), "address": "福建省漳州市漳浦县府前街18号",
                                        "csrf": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303
    visit_url = r.headers["location"]
    page = client.get(visit_url)
    windows = re.findall(r'name="window" value="([^"]+)"', page.text)
    assert len(windows) >= 3 and "选择上门时间" in page.text
    booked = client.post(visit_url, data={"window": windows[0], "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "您的上门预约" in booked.text and "Wang" in booked.text
    assert booked.text.count('id="visit-window"') == 1
    first = re.search(r'id="visit-window">([^<]+)<', booked.text).group(1)
    moved = client.post(visit_url, data={"window": re.findall(r'name="window" value="([^"]+)"', booked.text)[-1],
                                         "csrf": csrf_of(booked.text)}, follow_redirects=True)
    assert re.search(r'id="visit-window">([^<]+)<', moved.text).group(1) != first
    visit_id = re.search(r'name="visit_id" value="(\d+)"', moved.text).group(1)
    cancelled = client.post(f"{visit_url}/cancel", data={"visit_id": visit_id, "csrf": csrf_of(moved.text)},
                            follow_redirects=True)
    assert "您的上门预约" not in cancelled.text and "选择上门时间" in cancelled.text
    assert f.ticket  # the field's own request is untouched
    bad = client.post(visit_url, data={"window": "not-a-window", "csrf": csrf_of(moved.text)})
    assert bad.status_code == 422


def test_the_chat_has_a_person_one_button_away(client: TestClient, seed: Seed) -> None:
    login(client, "alice", "alice-password")
    page = client.get("/my/chat")
    assert page.status_code == 200 and "转人工" in page.text
    sent = client.post("/my/chat", data={"text": "维修进度怎么样了", "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "维修进度怎么样了" in sent.text and "智能助手" in sent.text
    person = client.post("/my/chat/person", data={"csrf": csrf_of(sent.text)}, follow_redirects=True)
    assert person.status_code == 200 and "等待人工" in person.text  # no agent on duty in the seed: queued
    assert client.post("/my/chat", data={"text": "", "csrf": csrf_of(person.text)}).status_code == 422


def test_a_customer_downloads_their_evidence(client: TestClient, seed: Seed) -> None:
    import json

    from tests.integration.test_api_tickets import open_ticket

    open_ticket(client, seed)
    login(client, "alice", "alice-password")
    assert "我的证据" in client.get("/my").text
    bundle = json.loads(client.get("/my/evidence.json").content)
    assert bundle["customer_id"] == seed.alice and bundle["entries"]
    assert client.get("/my/evidence.pdf").content.startswith(b"%PDF")
    assert client.get("/my/evidence.exe").status_code == 404
