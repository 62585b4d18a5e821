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
    done = re.search(r'<section class="card success" id="booked".*?</section>', booked.text, re.S).group(0)
    assert "预约成功" in done and "Wang" in done and "福建省漳州市漳浦县府前街18号" in done  # when, who, where
    assert "漳浦服务网点" in done  # and whom to call (the outlet's line, not the technician's own phone)
    assert 'id="booked"' not in client.get(visit_url).text  # said once, after booking
    assert booked.text.count('id="visit-window"') == 1
    offered = re.findall(r'name="window" value="([^"]+)"', booked.text)
    assert windows[0] not in offered and set(offered) <= set(windows)  # the booked time is not offered again
    assert re.search(r"<legend>\d+月\d+日 周[一二三四五六日]</legend>", booked.text)  # grouped by day
    first = re.search(r'id="visit-window">([^<]+)<', booked.text).group(1)
    moved = client.post(visit_url, data={"window": re.findall(r'name="window" value="([^"]+)"', booked.text)[-1],
                                         "csrf": csrf_of(booked.text)}, follow_redirects=True)
    assert re.search(r'id="visit-window">([^<]+)<', moved.text).group(1) != first
    # Cancelling the visit asks first, saying what will happen; going back changes nothing.
    ask = client.get(re.search(r'href="([^"]+)" id="cancel-visit"', moved.text).group(1))
    assert "上门预约将被取消" in ask.text and 'id="action-back"' in ask.text
    unconfirmed = client.post(ticket_url := ask.url.path, data={"csrf": csrf_of(ask.text)}, follow_redirects=True)
    assert "您的上门预约" in client.get(visit_url).text and "确认取消上门" in unconfirmed.text
    cancelled = client.post(ticket_url, data={"confirm": "yes", "csrf": csrf_of(ask.text)}, follow_redirects=True)
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


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_repair_report_carries_photos_checked_before_anything_is_opened(client: TestClient, seed: Seed,
                                                                          wired: App) -> None:
    make_field(wired, seed)
    login(client, "alice", "alice-password")
    form = client.get("/my/repair")
    assert 'enctype="multipart/form-data"' in form.text and 'name="photos"' in form.text
    fields = {"category": "repair", "subject": "箱门变形", "unit_id": str(seed.alice_unit),
              "address": "福建省漳州市漳浦县府前街18号", "csrf": csrf_of(form.text)}
    before = len(client.get("/api/v1/tickets", headers=seed.auth("manager_a")).json()["items"])
    fake = client.post("/my/repair", data=fields, files=[("photos", ("door.png", b"<svg onload=alert(1)>",
                                                                     "image/png"))])
    assert fake.status_code == 422 and "附件类型不支持" in fake.text
    assert len(client.get("/api/v1/tickets", headers=seed.auth("manager_a")).json()["items"]) == before
    four = [("photos", (f"p{i}.png", PNG, "image/png")) for i in range(4)]
    assert client.post("/my/repair", data=fields, files=four).status_code == 422
    sent = client.post("/my/repair", data=fields, follow_redirects=False,
                       files=[("photos", ("门.png", PNG, "image/png"))])
    assert sent.status_code == 303
    ticket_id = int(re.search(r"/my/tickets/(\d+)/visit", sent.headers["location"]).group(1))
    page = client.get(f"/tickets/{ticket_id}")
    src = re.search(r'<img src="(/tickets/\d+/attachments/\d+)" alt="照片 1"', page.text).group(1)
    assert '<span translate="no">门.png</span>' in page.text  # the file's name as the customer gave it
    photo = client.get(src)
    assert photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert photo.headers["x-content-type-options"] == "nosniff"
    listed = client.get(f"/api/v1/tickets/{ticket_id}/attachments", headers=seed.auth("agent_a")).json()
    assert [(a["filename"], a["size"]) for a in listed] == [("门.png", len(PNG))]
    added = client.post(f"/tickets/{ticket_id}/attach", data={"csrf": csrf_of(page.text)},
                        files={"photo": ("invoice.pdf", b"%PDF-1.4 receipt", "application/pdf")}, follow_redirects=True)
    assert "invoice.pdf" in added.text
    assert client.get(f"/api/v1{src}", headers=seed.auth("bob")).status_code == 404  # another customer
    assert client.get(f"/api/v1{src}", headers=seed.auth("agent_a")).content == PNG
    assert client.get(f"/api/v1/tickets/{ticket_id}/attachments", headers=seed.auth("bob")).status_code == 404
    big = client.post(f"/api/v1/tickets/{ticket_id}/attachments", content=PNG + b"\x00" * (5 * 2**20),
                      headers=seed.auth("alice") | {"Content-Type": "image/png"})
    assert big.status_code == 413 and big.headers["content-type"] == "application/problem+json"
    with wired.uows(readonly=True) as uow:
        kinds = [e.kind for e in uow.evidence.entries(seed.brand_a, customer_id=seed.alice)]
    assert kinds.count("ticket.attachment") == 2


def test_every_plan_change_keeps_its_receipt_on_my_plans(client: TestClient, seed: Seed, wired: App) -> None:
    from fairdesk.domain.people import Actor, Role
    from fairdesk.services import plans as plans_svc
    from tests.integration.test_plans_api import catalogue, change, subscribe

    plans_svc.import_catalogue(Actor(seed.brand_a, Role.MANAGER, label="t"), catalogue(), wired.uows())
    sub = subscribe(client, seed)["id"]
    bobs = subscribe(client, seed, who="bob", customer_id=seed.bob)["id"]
    bobs_change = change(client, seed, bobs, "plus", who="bob").json()["receipt"]["change_id"]
    login(client, "alice", "alice-password")
    preview = client.get(f"/my/plans/{sub}/change", params={"to": "plus"})
    done = client.post(f"/my/plans/{sub}/change", data={"to": "plus", "csrf": csrf_of(preview.text)})
    assert done.status_code == 200 and 'id="receipt"' in done.text
    plans_page = client.get("/my/plans")
    link = re.search(rf'href="(/my/plans/{sub}/receipts/\d+)"', plans_page.text).group(1)
    assert "变更记录与凭证" in plans_page.text
    again = client.get(link)
    assert again.status_code == 200 and "变更凭证" in again.text and 'id="receipt-lines"' in again.text
    assert re.search(r'id="receipt-net">¥-?\d+\.\d\d<', again.text)
    assert client.get(f"/my/plans/{bobs}/receipts/{bobs_change}").status_code == 404  # not hers


def test_an_address_in_no_single_county_is_asked_again_with_its_candidates_before_anything_is_opened(
        client: TestClient, seed: Seed, wired: App) -> None:
    make_field(wired, seed)
    login(client, "alice", "alice-password")
    form = client.get("/my/repair")
    before = len(client.get("/api/v1/tickets", headers=seed.auth("manager_a")).json()["items"])
    fields = {"category": "repair", "subject": "箱门变形，打不开", "unit_id": str(seed.alice_unit),
              "description": "昨晚开始", "address": "朝阳区建国路1号", "csrf": csrf_of(form.text)}
    again = client.post("/my/repair", data=fields)
    assert again.status_code == 422
    assert 'id="address-error"' in again.text and "不止一个区县" in again.text      # beside the field
    assert 'value="朝阳区建国路1号"' in again.text and 'value="箱门变形，打不开"' in again.text  # kept
    assert "昨晚开始</textarea>" in again.text
    places = re.findall(r'name="place" value="([^"]+)"', again.text)
    assert "北京市北京市朝阳区" in places or any(p.startswith("北京市") and p.endswith("朝阳区") for p in places)
    assert len(client.get("/api/v1/tickets", headers=seed.auth("manager_a")).json()["items"]) == before  # none
    unknown = client.post("/my/repair", data=fields | {"address": "人民路12号"})
    assert unknown.status_code == 422 and "未能识别这个地址" in unknown.text
    beijing = next(p for p in places if p.startswith("北京市"))
    sent = client.post("/my/repair", data=fields | {"place": beijing}, follow_redirects=False)
    assert sent.status_code == 303  # the chosen county in front of the address: opened, and dispatchable
    ticket_id = int(re.search(r"/my/tickets/(\d+)/visit", sent.headers["location"]).group(1))
    ticket = client.get(f"/api/v1/tickets/{ticket_id}", headers=seed.auth("manager_a")).json()
    assert ticket["subject"] == "箱门变形，打不开"


def test_a_refused_photo_brings_the_form_back_with_what_was_typed(client: TestClient, seed: Seed,
                                                                  wired: App) -> None:
    make_field(wired, seed)
    login(client, "alice", "alice-password")
    form = client.get("/my/repair")
    fields = {"category": "maintenance", "subject": "年度保养", "unit_id": str(seed.alice_unit),
              "address": "福建省漳州市漳浦县府前街18号", "csrf": csrf_of(form.text)}
    r = client.post("/my/repair", data=fields, files=[("photos", ("x.png", b"<svg onload=alert(1)>", "image/png"))])
    assert r.status_code == 422 and 'id="photos-error"' in r.text and "附件类型不支持" in r.text
    assert 'value="年度保养"' in r.text and 'value="maintenance" selected' in r.text and "重新选择" in r.text
