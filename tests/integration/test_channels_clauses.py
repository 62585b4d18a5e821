"""Official channels and clause review through the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.entrypoints.cli.main import app as cli
from tests.conftest import SECRET, Seed

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def registered(client: TestClient, seed: Seed) -> Seed:
    for body in ({"kind": "phone", "value": "400-888-6666", "label": "全国售后热线"},
                 {"kind": "website", "value": "https://www.angu-safes.example/"}):
        r = client.post("/api/v1/channels", headers=seed.auth("manager_a"), json=body)
        assert r.status_code == 201, r.text
    return seed


class TestCheck:
    def test_anyone_can_check_a_number_without_logging_in(self, client: TestClient, registered: Seed) -> None:
        official = client.get("/api/v1/channels/check", params={"value": "４００８８８６６６６"}).json()
        assert (official["status"], official["brand"], official["normalized"]) == ("official", "安固保险柜",
                                                                                    "+864008886666")
        other = client.get("/api/v1/channels/check", params={"value": "400-1234-567"}).json()
        assert (other["status"], other["brand"]) == ("unknown", None)
        site = client.get("/api/v1/channels/check", params={"value": "angu-safes.example"}).json()
        assert site["status"] == "official"
        bad = client.get("/api/v1/channels/check", params={"value": "hello"})
        assert bad.status_code == 422 and bad.json()["code"] == "channel.unrecognised"

    def test_only_a_manager_registers_and_a_number_belongs_to_one_brand(self, client: TestClient,
                                                                        registered: Seed) -> None:
        r = client.post("/api/v1/channels", headers=registered.auth("agent_a"),
                        json={"kind": "phone", "value": "400-000-1111"})
        assert r.status_code == 403
        dup = client.post("/api/v1/channels", headers=registered.auth("manager_a"),
                          json={"kind": "phone", "value": "4008886666"})
        assert dup.status_code == 409 and dup.json()["code"] == "channel.registered"


class TestScan:
    def test_a_spam_page_marks_impostors_and_the_real_number(self, client: TestClient, registered: Seed) -> None:
        r = client.post("/api/v1/channels/scan", headers=registered.auth("agent_a"),
                        json={"text": (DATA / "spam_page.html").read_text("utf-8")})
        results = {x["normalized"]: (x["status"], x["brand"]) for x in r.json()}
        assert results.pop("+864008886666") == ("official", "安固保险柜")
        assert len(results) == 9 and set(results.values()) == {("impostor", "安固保险柜")}

    def test_the_cli_prints_one_object_per_number(self, db_url: str, registered: Seed,
                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
        monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
        r = CliRunner().invoke(cli, ["channels", "scan", str(DATA / "spam_page.html"), "--json"])
        assert r.exit_code == 0, r.output
        rows = [json.loads(x) for x in r.stdout.splitlines()]
        assert all(list(x) == ["number", "normalized", "status", "brand"] for x in rows) and len(rows) == 10
        binary = tmp_path / "x.bin"
        binary.write_bytes(b"\x00\x01\x02" * 10)
        r = CliRunner().invoke(cli, ["channels", "scan", str(binary)])
        assert r.exit_code == 2 and "binary" in r.stderr
        many = tmp_path / "many.txt"
        many.write_text("\n".join(f"客服电话 138{i:08d}" for i in range(5000)), encoding="utf-8")
        r = CliRunner().invoke(cli, ["channels", "scan", str(many), "--json"])
        assert r.exit_code == 0 and len(r.stdout.splitlines()) == 5000


class TestClauses:
    def test_the_api_and_the_cli_flag_the_same_clauses(self, client: TestClient, tmp_path: Path) -> None:
        text = "1. 升级立即生效，降级于次月生效。\n2. 您可随时取消，不收取任何费用。\n3. 一经开通，不予退款。"
        api = client.post("/api/v1/clauses/check", json={"text": text}).json()
        assert [f["rule"] for f in api["findings"]] == ["asymmetric_change", "no_refund"]
        (tmp_path / "terms.txt").write_text(text, encoding="gb18030")
        r = CliRunner().invoke(cli, ["clauses", "check", str(tmp_path / "terms.txt"), "--json"])
        assert r.exit_code == 0 and json.loads(r.stdout) == api
        (tmp_path / "fair.txt").write_text("您可随时取消，不收取任何费用。", encoding="utf-8")
        r = CliRunner().invoke(cli, ["clauses", "check", str(tmp_path / "fair.txt"), "--json"])
        assert json.loads(r.stdout) == {"findings": []}


def test_the_public_check_page_needs_no_login(client: TestClient, registered: Seed) -> None:
    ok = client.get("/check", params={"value": "400 888 6666"})
    assert ok.status_code == 200 and "官方渠道" in ok.text and "安固保险柜" in ok.text
    fake = client.get("/check", params={"value": "400-1234-567"})
    assert "未登记为任何品牌的官方渠道" in fake.text
    english = client.get("/check", params={"value": "hello", "lang": "en"})
    assert "Not a phone number or web address" in english.text


def test_binary_and_huge_contract_files_get_a_clear_answer(tmp_path: Path) -> None:
    binary = tmp_path / "contract.pdf"
    binary.write_bytes(b"%PDF-1.7\x00\x01\x02" * 100)
    r = CliRunner().invoke(cli, ["clauses", "check", str(binary)])
    assert r.exit_code == 2 and "binary" in r.stderr
    huge = tmp_path / "huge.txt"
    huge.write_text("本活动最终解释权归本公司所有。" * 200_000, encoding="utf-8")
    r = CliRunner().invoke(cli, ["clauses", "check", str(huge)])
    assert r.exit_code == 2 and "larger than" in r.stderr
    r = CliRunner().invoke(cli, ["clauses", "check", str(tmp_path / "missing.txt")])
    assert r.exit_code == 2
