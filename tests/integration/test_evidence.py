"""The evidence log on SQLite and PostgreSQL: tampering is detected and located; bundles verify offline."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fairdesk.adapters.db import tables as t
from fairdesk.bootstrap import App
from fairdesk.domain.evidence import Checkpoint, checkpoint_message
from fairdesk.entrypoints.cli.main import app as cli
from fairdesk.services import evidence, signing
from tests.conftest import SECRET, Seed
from tests.integration.test_api_tickets import open_ticket


def history(client: TestClient, seed: Seed, n: int = 3) -> list[int]:
    """n tickets for alice, each moved once and commented once: 3n entries."""
    ids = []
    for i in range(n):
        tid = open_ticket(client, seed, subject=f"保险柜 {i}").json()["id"]
        client.post(f"/api/v1/tickets/{tid}/transitions", json={"to": "triaged"}, headers=seed.auth("agent_a"))
        client.post(f"/api/v1/tickets/{tid}/comments", json={"text": f"已联系 {i}"}, headers=seed.auth("agent_a"))
        ids.append(tid)
    return ids


def sql(wired: App, stmt: sa.Executable) -> None:
    with wired.engine.begin() as conn:
        conn.execute(stmt)


E = t.evidence_entries.c


class TestTamperIsDetectedAndLocated:
    def test_an_untouched_log_is_intact(self, client: TestClient, seed: Seed, wired: App) -> None:
        history(client, seed)
        evidence.checkpoint(wired.uows, wired.clock, "angu")
        assert evidence.verify_brand(wired.uows, "angu") == []

    def test_an_edited_entry(self, client: TestClient, seed: Seed, wired: App) -> None:
        history(client, seed)
        sql(wired, sa.update(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq == 5)
            .values(payload='{"by":"agent:agent_a","number":"AG-1","text":"改过的"}'))
        problems = evidence.verify_brand(wired.uows, "angu")
        assert [(p.kind, p.seq) for p in problems] == [("edited", 5)]

    def test_a_deleted_entry(self, client: TestClient, seed: Seed, wired: App) -> None:
        history(client, seed)
        sql(wired, sa.delete(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq == 4))
        problems = evidence.verify_brand(wired.uows, "angu")
        assert ("deleted", 4) in [(p.kind, p.seq) for p in problems]

    def test_reordered_entries(self, client: TestClient, seed: Seed, wired: App) -> None:
        history(client, seed)
        # Swap the positions of entries 3 and 6 (their content and hashes move with them).
        sql(wired, sa.update(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq == 3).values(seq=-3))
        sql(wired, sa.update(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq == 6).values(seq=3))
        sql(wired, sa.update(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq == -3).values(seq=6))
        problems = evidence.verify_brand(wired.uows, "angu")
        assert {p.kind for p in problems} == {"reordered"} and min(p.seq for p in problems) == 3

    def test_a_truncated_chain(self, client: TestClient, seed: Seed, wired: App) -> None:
        history(client, seed)
        evidence.checkpoint(wired.uows, wired.clock, "angu")
        sql(wired, sa.delete(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq > 7))
        sql(wired, sa.update(t.evidence_heads).where(t.evidence_heads.c.brand_id == seed.brand_a).values(seq=7))
        problems = evidence.verify_brand(wired.uows, "angu")
        assert [(p.kind, p.seq) for p in problems] == [("truncated", 8)]

    def test_a_forged_checkpoint(self, client: TestClient, seed: Seed, wired: App) -> None:
        history(client, seed)
        evidence.checkpoint(wired.uows, wired.clock, "angu")
        forger, _ = signing.new_key()
        c = t.evidence_checkpoints.c
        with wired.engine.connect() as conn:
            row = conn.execute(sa.select(t.evidence_checkpoints)).one()
        cp = Checkpoint("angu", row.from_seq, row.to_seq, "ab" * 32, row.head_hash, row.signed_at)
        sql(wired, sa.update(t.evidence_checkpoints).where(c.id == row.id).values(
            merkle_root=cp.merkle_root, signature=signing.sign(forger, checkpoint_message(cp))))
        problems = evidence.verify_brand(wired.uows, "angu")
        assert {p.kind for p in problems} == {"checkpoint"} and {p.seq for p in problems} == {row.to_seq}

    def test_the_cli_exits_1_and_names_the_entry(self, client: TestClient, seed: Seed, wired: App, db_url: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
        monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
        history(client, seed, 1)
        assert CliRunner().invoke(cli, ["evidence", "verify", "--brand", "angu"]).exit_code == 0
        sql(wired, sa.update(t.evidence_entries).where(E.brand_id == seed.brand_a, E.seq == 2)
            .values(at="2020-01-01T00:00:00+00:00"))
        r = CliRunner().invoke(cli, ["evidence", "verify", "--brand", "angu"])
        assert r.exit_code == 1 and "edited" in r.stdout and "entry 2" in r.stdout


class TestBundles:
    def bundle(self, client: TestClient, seed: Seed) -> dict[str, Any]:
        history(client, seed, 2)
        open_ticket(client, seed, customer_id=seed.bob, subject="别人的")
        r = client.get("/api/v1/evidence/bundle", params={"customer_id": seed.alice}, headers=seed.auth("alice"))
        assert r.status_code == 200, r.text
        return r.json()

    def test_a_customer_exports_only_their_own_entries_and_they_verify(self, client: TestClient,
                                                                       seed: Seed) -> None:
        b = self.bundle(client, seed)
        assert len(b["entries"]) == 6 and {e["customer_id"] for e in b["entries"]} == {seed.alice}
        key = client.get("/api/v1/evidence/keys/angu").json()["public_key"]
        assert b["public_key"] == key
        r = client.post("/api/v1/evidence/verify-bundle", params={"key": key}, json=b).json()
        assert r == {"intact": True, "problems": []}
        assert client.get("/api/v1/evidence/bundle", params={"customer_id": seed.alice},
                          headers=seed.auth("bob")).status_code == 404

    @pytest.mark.parametrize("tamper", ["one_byte", "reorder", "truncate_proof", "resign", "drop_field"])
    def test_any_change_to_a_bundle_fails_verification(self, client: TestClient, seed: Seed, tamper: str) -> None:
        b = self.bundle(client, seed)
        key = b["public_key"]
        bad = copy.deepcopy(b)
        if tamper == "one_byte":
            text = bad["entries"][1]["payload"]["number"]
            bad["entries"][1]["payload"]["number"] = text[:-1] + ("1" if text[-1] != "1" else "2")
        elif tamper == "reorder":
            bad["entries"][0], bad["entries"][1] = bad["entries"][1], bad["entries"][0]
        elif tamper == "truncate_proof":
            bad["entries"][2]["proof"] = bad["entries"][2]["proof"][:-1]
        elif tamper == "resign":
            forger, forger_public = signing.new_key()
            for cp in bad["checkpoints"]:
                cp["signature"] = signing.sign(forger, checkpoint_message(Checkpoint(**{**cp, "signature": ""})))
            bad["public_key"] = forger_public
        else:
            del bad["entries"][0]["prev_hash"]
        assert evidence.verify_bundle(bad, key) != []

    def test_the_cli_writes_json_and_pdf_and_verifies_offline(self, client: TestClient, seed: Seed, db_url: str,
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
        monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)
        history(client, seed, 1)
        out = tmp_path / "case.zip"
        r = CliRunner().invoke(cli, ["evidence", "export", "--brand", "angu", "--customer", str(seed.alice),
                                     "--out", str(out)])
        assert r.exit_code == 0, r.output
        with zipfile.ZipFile(out) as z:
            assert z.read("bundle.pdf").startswith(b"%PDF") and json.loads(z.read("bundle.json"))["entries"]
        key = CliRunner().invoke(cli, ["evidence", "key", "--brand", "angu"]).stdout.strip()
        ok = CliRunner().invoke(cli, ["evidence", "verify-bundle", str(out), "--key", key])
        assert ok.exit_code == 0 and "intact" in ok.stdout
        raw = bytearray(out.read_bytes())
        broken = tmp_path / "broken.json"
        data = json.loads(zipfile.ZipFile(out).read("bundle.json"))
        data["entries"][0]["at"] = data["entries"][0]["at"].replace("T", " ")
        broken.write_text(json.dumps(data))
        assert CliRunner().invoke(cli, ["evidence", "verify-bundle", str(broken), "--key", key]).exit_code == 1
        garbage = tmp_path / "garbage.zip"
        garbage.write_bytes(bytes(raw[:100]))
        assert CliRunner().invoke(cli, ["evidence", "verify-bundle", str(garbage)]).exit_code == 2
