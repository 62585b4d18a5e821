"""Outlets, coverage import, routing and gaps through the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.entrypoints.cli.main import app as cli
from tests.conftest import SECRET, Seed

LIST = "漳州市漳浦县、黔东南岑巩县、海南贵南县\n中山市石岐街道、漳州市漳浦县、朝阳区、火星市、中山市东升镇"


def outlet(client: TestClient, seed: Seed, code: str, address: str, **extra: object) -> dict[str, object]:
    r = client.post("/api/v1/network/outlets", headers=seed.auth("manager_a"),
                    json={"code": code, "name": f"网点{code}", "address": address} | extra)
    assert r.status_code == 201, r.text
    return r.json()


class TestImport:
    def test_the_report_lists_every_name_and_only_sure_ones_are_imported(self, client: TestClient,
                                                                         seed: Seed) -> None:
        outlet(client, seed, "AG-001", "福建省漳州市漳浦县绥安镇府前街18号")
        r = client.post("/api/v1/network/outlets/AG-001/areas", headers=seed.auth("manager_a"),
                        json={"text": LIST})
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["total"] == 8
        assert [x["adcode"] for x in report["resolved"]] == ["350623", "522626", "632525", "442000001"]
        assert [x["name"] for x in report["duplicates"]] == ["漳州市漳浦县"]
        assert [x["name"] for x in report["ambiguous"]] == ["朝阳区"]
        assert report["unknown"] == ["火星市"]
        assert [x["name"] for x in report["review"]] == ["中山市东升镇"]
        assert report["imported"] == 4 and report["refused"] == 3
        again = client.post("/api/v1/network/outlets/AG-001/areas", headers=seed.auth("manager_a"),
                            json={"text": LIST}).json()
        assert again["imported"] == 0  # importing the same list twice adds nothing

    def test_a_dry_run_reports_without_storing(self, client: TestClient, seed: Seed) -> None:
        outlet(client, seed, "AG-002", "北京市朝阳区")
        dry = client.post("/api/v1/network/outlets/AG-002/areas", headers=seed.auth("manager_a"),
                          json={"text": "北京市朝阳区", "dry_run": True}).json()
        assert dry["imported"] == 1
        routed = client.get("/api/v1/network/route", params={"address": "北京市朝阳区建国路1号"},
                            headers=seed.auth("agent_a")).json()
        assert routed["outlets"] == []

    @pytest.mark.parametrize(("who", "code", "body", "status", "problem"), [
        ("agent_a", "AG-001", {"text": "北京市朝阳区"}, 403, "access.role"),
        ("manager_a", "NOPE", {"text": "北京市朝阳区"}, 404, "outlet.not_found"),
        ("manager_a", "AG-001", {"text": "、、\n"}, 422, "network.empty_area_list"),
        ("manager_a", "AG-001", {"text": "x", "extra": 1}, 422, "input.invalid"),
    ])
    def test_bad_imports_are_refused_and_change_nothing(self, client: TestClient, seed: Seed, who: str, code: str,
                                                        body: dict[str, object], status: int, problem: str) -> None:
        outlet(client, seed, "AG-001", "北京市朝阳区")
        r = client.post(f"/api/v1/network/outlets/{code}/areas", headers=seed.auth(who), json=body)
        assert (r.status_code, r.json()["code"]) == (status, problem)
        assert client.get("/api/v1/network/gaps?province=北京", headers=seed.auth("manager_a")).json()[0][
            "covered"] == 0


class TestRouting:
    def test_the_county_outlet_ranks_before_the_province_wide_one(self, client: TestClient, seed: Seed) -> None:
        outlet(client, seed, "BJ-ALL", "北京市东城区")
        outlet(client, seed, "BJ-CY", "北京市朝阳区")
        h = seed.auth("manager_a")
        client.post("/api/v1/network/outlets/BJ-ALL/areas", headers=h, json={"text": "北京市"})
        client.post("/api/v1/network/outlets/BJ-CY/areas", headers=h, json={"text": "北京市朝阳区"})
        r = client.get("/api/v1/network/route", params={"address": "北京市朝阳区建国路88号"},
                       headers=seed.auth("agent_a")).json()
        assert r["resolution"]["adcode"] == "110105"
        assert [o["code"] for o in r["outlets"]] == ["BJ-CY", "BJ-ALL"]
        other = client.get("/api/v1/network/route", params={"address": "北京市海淀区"}, headers=seed.auth("agent_a"))
        assert [o["code"] for o in other.json()["outlets"]] == ["BJ-ALL"]

    def test_another_brand_never_sees_our_outlets(self, client: TestClient, seed: Seed) -> None:
        outlet(client, seed, "BJ-ALL", "北京市东城区")
        client.post("/api/v1/network/outlets/BJ-ALL/areas", headers=seed.auth("manager_a"), json={"text": "北京市"})
        r = client.get("/api/v1/network/route", params={"address": "北京市朝阳区"}, headers=seed.auth("agent_b"))
        assert r.json()["outlets"] == []
        assert client.get("/api/v1/network/outlets", headers=seed.auth("agent_b")).json() == []
        assert client.post("/api/v1/network/outlets/BJ-ALL/areas", headers=seed.auth("agent_b"),
                           json={"text": "北京市"}).status_code == 403

    def test_an_undecidable_address_returns_candidates_and_no_outlet(self, client: TestClient, seed: Seed) -> None:
        r = client.get("/api/v1/network/route", params={"address": "朝阳区"}, headers=seed.auth("agent_a")).json()
        assert r["resolution"]["adcode"] is None and len(r["resolution"]["candidates"]) == 2
        assert r["outlets"] == []


def test_the_cli_imports_a_file_and_reports_gaps(db_url: str, seed: Seed, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
    runner = CliRunner()
    r = runner.invoke(cli, ["network", "outlet-create", "--brand", "angu", "--code", "AG-9", "--name", "漳浦网点",
                            "--address", "漳州市漳浦县"])
    assert r.exit_code == 0, r.output
    areas = tmp_path / "areas.txt"
    areas.write_text(LIST, encoding="utf-8")
    r = runner.invoke(cli, ["network", "import-areas", str(areas), "--brand", "angu", "--outlet", "AG-9", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["imported"] == 4
    r = runner.invoke(cli, ["network", "gaps", "--brand", "angu", "--province", "福建省", "--json"])
    [fujian] = json.loads(r.stdout)
    assert fujian["covered"] == 1 and "漳浦县" not in fujian["uncovered"]
    binary = tmp_path / "areas.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    r = runner.invoke(cli, ["network", "import-areas", str(binary), "--brand", "angu", "--outlet", "AG-9"])
    assert r.exit_code == 2 and "not UTF-8" in r.stderr
    r = runner.invoke(cli, ["network", "route", "漳州市漳浦县绥安镇", "--brand", "angu", "--json"])
    assert [o["code"] for o in json.loads(r.stdout)["outlets"]] == ["AG-9"]
