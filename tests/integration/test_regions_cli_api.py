"""`fairdesk regions resolve` and GET /api/v1/regions/resolve speak the same JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from fastapi.testclient import TestClient

KEYS = ["input", "adcode", "level", "province", "city", "county", "township", "confidence", "candidates"]


def test_the_cli_prints_one_json_object_per_stdin_line_in_order() -> None:
    lines = ["海南贵南县", "朝阳区", "", "😀 emoji", "中山市石岐街道"]
    out = subprocess.run([sys.executable, "-m", "fairdesk", "regions", "resolve", "--json"],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, check=True).stdout
    objects = [json.loads(x) for x in out.splitlines()]
    assert [o["input"] for o in objects] == lines
    assert all(list(o) == KEYS for o in objects)
    assert objects[0]["adcode"] == "632525" and objects[4]["level"] == "township"
    assert objects[1]["adcode"] is None and len(objects[1]["candidates"]) == 2
    assert objects[3]["adcode"] is None and objects[3]["candidates"] == []


def test_the_api_returns_the_same_object_without_login(client: TestClient) -> None:
    r = client.get("/api/v1/regions/resolve", params={"q": "楚雄姚安县"})
    assert r.status_code == 200 and list(r.json()) == KEYS and r.json()["adcode"] == "532325"
    assert client.get("/api/v1/regions/resolve", params={"q": "x" * 3000}).status_code == 422
    assert client.get("/api/v1/regions/resolve").json()["code"] == "input.invalid"
