"""The `fairdesk` command against a real database: tickets end to end, errors exit 2 with a reason."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fairdesk.entrypoints.cli.main import app
from tests.conftest import SECRET, Seed

runner = CliRunner()


@pytest.fixture
def cli(db_url: str, seed: Seed, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAIRDESK_DATABASE_URL", db_url)
    monkeypatch.setenv("FAIRDESK_SECRET_KEY", SECRET)

    def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
        result = runner.invoke(app, list(args), input=stdin)
        assert result.exit_code == code, (args, result.output, result.stderr if code == 0 else "")
        return result.stdout if code == 0 else result.stderr

    return run


class TestTicketCommands:
    def test_a_ticket_goes_from_new_to_closed_through_the_cli(self, cli, seed: Seed) -> None:  # type: ignore[no-untyped-def]
        created = json.loads(cli("ticket", "create", "--brand", "angu", "--customer", str(seed.alice),
                                 "--subject", "保险柜打不开", "--category", "repair", "--json"))
        assert created["number"].startswith("AG-2026") and created["status"] == "new"
        number = created["number"]
        for to in ("triaged", "in_progress", "resolved", "closed"):
            moved = json.loads(cli("ticket", "move", number, to, "--brand", "angu", "--note", to, "--json"))
            assert moved["status"] == to
        shown = json.loads(cli("ticket", "show", number, "--brand", "angu", "--json"))
        assert [(e["from"], e["to"]) for e in shown["events"]] == [
            (None, "new"), ("new", "triaged"), ("triaged", "in_progress"), ("in_progress", "resolved"),
            ("resolved", "closed")]
        listed = json.loads(cli("ticket", "list", "--brand", "angu", "--status", "closed", "--json"))
        assert [t["number"] for t in listed] == [number]

    def test_the_cli_honours_idempotency_keys(self, cli, seed: Seed) -> None:  # type: ignore[no-untyped-def]
        args = ("ticket", "create", "--brand", "angu", "--customer", str(seed.alice), "--subject", "x",
                "--idempotency-key", "hotline-call-42", "--json")
        first, second = json.loads(cli(*args)), json.loads(cli(*args))
        assert first["id"] == second["id"] and second["replayed"] is True

    def test_acting_as_a_user_applies_that_users_rights(self, cli, seed: Seed) -> None:  # type: ignore[no-untyped-def]
        created = json.loads(cli("ticket", "create", "--brand", "angu", "--customer", str(seed.alice),
                                 "--subject", "x", "--json"))
        err = cli("ticket", "move", str(created["id"]), "triaged", "--brand", "angu", "--as", "auditor_a",
                  code=2)
        assert "ticket.transition_forbidden" in err


class TestErrorsExit2:
    @pytest.mark.parametrize("args", [
        ("ticket", "move", "1", "closed", "--brand", "angu"),  # no such ticket
        ("ticket", "show", "XX-1", "--brand", "angu"),
        ("ticket", "list", "--brand", "nobody"),
        ("ticket", "create", "--brand", "angu", "--customer", "999", "--subject", "x"),
        ("ticket", "create", "--brand", "angu", "--customer", "1", "--subject", "x", "--category", "magic"),
        ("customer", "create", "--brand", "angu", "--name", "x", "--phone", "12345"),
    ])
    def test_bad_input_exits_2_with_the_reason(self, cli, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        err = cli(*args, code=2)
        assert err.strip() and "Traceback" not in err

    def test_a_demo_at_an_unreadable_moment_exits_2_before_touching_anything(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        result = runner.invoke(app, ["demo", "--at", "yesterday", "--no-serve", "--dir", str(tmp_path / "d")])
        assert result.exit_code == 2 and "--at: 'yesterday' is not an ISO 8601" in result.stderr
        assert not (tmp_path / "d").exists()

    def test_an_illegal_move_names_the_rule(self, cli, seed: Seed) -> None:  # type: ignore[no-untyped-def]
        created = json.loads(cli("ticket", "create", "--brand", "angu", "--customer", str(seed.alice),
                                 "--subject", "x", "--json"))
        err = cli("ticket", "move", created["number"], "closed", "--brand", "angu", code=2)
        assert "ticket.illegal_transition" in err and "new to closed" in err


class TestUsers:
    def test_user_create_reads_the_password_from_stdin_and_refuses_a_short_one(self, cli) -> None:  # type: ignore[no-untyped-def]
        out = json.loads(cli("user", "create", "zhao", "--brand", "angu", "--role", "dispatcher",
                             "--password-stdin", "--json", stdin="a-long-password\n"))
        assert out["role"] == "dispatcher"
        err = cli("user", "create", "qian", "--brand", "angu", "--role", "agent", "--password-stdin",
                  stdin="short\n", code=2)
        assert "user.weak_password" in err
        token = cli("user", "token", "zhao").strip()
        assert token.startswith("fd_")


class TestFieldCommands:
    def test_import_book_and_account_for_parts_from_the_cli(self, cli, wired, seed: Seed, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from tests.integration.field import make_field

        f = make_field(wired, seed)
        bad = tmp_path / "techs.csv"
        bad.write_text("username,display_name,outlet_code\nzhou,周师傅,ZP-01\nqian,钱师傅,NOPE\n", encoding="utf-8")
        assert "1 rows with errors; nothing was imported" in cli("tech", "import", str(bad), "--brand", "angu",
                                                                 code=2)
        assert "zhou" not in cli("tech", "list", "--brand", "angu")
        assert "the good rows were imported" in cli("tech", "import", str(bad), "--brand", "angu", "--partial", code=2)
        assert "zhou" in cli("tech", "list", "--brand", "angu")
        cli("parts", "move", "receive", "--brand", "angu", "--sku", "LOCK-3050", "--qty", "3", "--to", "VAN-WANG")
        err = cli("parts", "move", "receive", "--brand", "angu", "--sku", "LOCK-3050", "--qty", "1.5",
                  "--to", "VAN-WANG", code=2)
        assert "stock.quantity" in err
        visit = json.loads(cli("dispatch", "auto", str(f.ticket), "--brand", "angu", "--part", "LOCK-3050:2",
                               "--json"))
        assert visit["technician_id"] == f.wang and visit["parts"][0]["location"] == "VAN-WANG"
        stock = json.loads(cli("parts", "stock", "--brand", "angu", "--location", "VAN-WANG", "--sku", "LOCK-3050",
                               "--json"))
        assert (stock[0]["on_hand"], stock[0]["reserved"]) == (3, 2)
        assert "all match the ledger" in cli("parts", "verify", "--brand", "angu")
        err = cli("dispatch", "auto", str(f.ticket), "--brand", "angu", code=2)
        assert "dispatch.already_booked" in err
