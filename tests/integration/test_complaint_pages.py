"""Complaint and credit pages: a consumer files and follows a complaint and decides on it, staff handle the queue
(green channel first), and anyone reads a brand's credit score, its complaint statistics and the method."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import Seed
from tests.integration.test_complaints import PNG, act, file
from tests.integration.test_web import csrf_of, login


def test_a_consumer_files_a_complaint_with_a_photo_and_confirms_it_resolved(client: TestClient, seed: Seed) -> None:
    login(client, "alice", "alice-password")
    page = client.get("/my/complaints")
    assert page.status_code == 200 and "我要投诉" in page.text and "绿色通道" in page.text
    r = client.post("/my/complaints", data={"category": "refund", "request": "退还服务费",
                                            "facts": "取消延保三十天后仍未退款", "csrf": csrf_of(page.text)},
                    files={"photo": ("凭证.png", PNG, "image/png")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    detail = client.get(r.headers["location"])
    assert "绿色通道" in detail.text and "凭证.png" in detail.text and "已收到" in detail.text
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    act(client, seed, cid, "propose", note="三日内退回")
    detail = client.get(f"/my/complaints/{cid}")
    assert "三日内退回" in detail.text and "确认已解决" in detail.text
    done = client.post(f"/my/complaints/{cid}/confirm", data={"csrf": csrf_of(detail.text)})
    assert done.status_code == 200 and "已解决" in done.text and "消费者已确认解决" in done.text
    assert client.get(f"/my/complaints/{cid}/case.pdf").content.startswith(b"%PDF")


def test_bad_input_on_the_form_is_refused_and_keeps_nothing(client: TestClient, seed: Seed) -> None:
    login(client, "alice", "alice-password")
    page = client.get("/my/complaints")
    token = csrf_of(page.text)
    short = client.post("/my/complaints", data={"category": "refund", "request": "退还上门费", "facts": "坏了",
                                                 "csrf": token})
    assert short.status_code == 422
    # Beside the field, in Chinese, no internal code; everything typed is still there.
    assert re.search(r'<textarea id="facts"[^>]*aria-invalid="true"[^>]*>坏了</textarea>\s*'
                     r'<p class="error" id="facts-error" role="alert">请填写事实与理由（至少 10 个字）</p>', short.text)
    assert 'value="退还上门费"' in short.text and '<option value="refund" selected>' in short.text
    assert "complaint.facts_required" not in short.text and "describe what happened" not in short.text
    no_csrf = client.post("/my/complaints", data={"category": "repair", "request": "修", "facts": "x" * 20})
    assert no_csrf.status_code == 403
    wrong = client.post("/my/complaints", data={"category": "repair", "request": "修", "facts": "x" * 20,
                                                "csrf": token}, files={"photo": ("a.sh", b"#!/bin/sh", "text/x-sh")})
    assert wrong.status_code == 422 and "附件类型不支持" in wrong.text
    assert client.get("/api/v1/complaints", headers=seed.auth("alice")).json() == []


def test_staff_see_the_green_channel_first_and_handle_from_the_page(client: TestClient, seed: Seed) -> None:
    standard = file(client, seed, "bob").json()
    green = file(client, seed, "alice", category="cancellation").json()
    login(client, "agent_a", "agent_a-password")
    queue = client.get("/complaints").text
    assert queue.index(green["number"]) < queue.index(standard["number"])
    page = client.get(f"/complaints/{standard['id']}")
    assert "不予受理" in page.text and "确认已解决" not in page.text
    r = client.post(f"/complaints/{standard['id']}/reject", data={"reason": "duplicate", "note": "重复提交",
                                                                  "csrf": csrf_of(page.text)})
    assert r.status_code == 200 and "重复投诉" in r.text and "12315" in r.text
    refused = client.post(f"/complaints/{green['id']}/close", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403 and "只有消费者本人" in refused.text


def test_the_public_credit_page_and_the_method(client: TestClient, seed: Seed) -> None:
    assert "暂无评分" in client.get("/brands/angu/credit").text
    file(client, seed, "alice", category="refund")
    client.post("/api/v1/credit/compute", headers=seed.auth("manager_a"))
    page = client.get("/brands/angu/credit")
    assert page.status_code == 200 and re.search(r'id="score-value">\d+(\.\d)?<', page.text)
    assert "满意度" in page.text and "绿色通道" in page.text and "/credit/method" in page.text
    method = client.get("/credit/method")
    assert method.status_code == 200 and "标准误" in method.text and "30" in method.text
    english = client.get("/brands/angu/credit", headers={"Accept-Language": "en"})
    assert "Service-credit score" in english.text
    assert client.get("/brands/nope/credit").status_code == 404


def test_an_error_page_speaks_the_reader_s_language_shows_no_code_and_leads_back(client: TestClient,
                                                                                 seed: Seed) -> None:
    login(client, "alice", "alice-password")
    r = client.get("/my/complaints/99999", headers={"referer": "http://testserver/my/complaints"})
    assert r.status_code == 404 and "投诉不存在" in r.text
    assert "complaint.not_found" not in r.text and "no complaint" not in r.text.lower()
    assert 'href="/my/complaints" id="error-back"' in r.text
    elsewhere = client.get("/my/complaints/99999", headers={"referer": "https://evil.example/x"})
    assert 'href="/" id="error-back"' in elsewhere.text
