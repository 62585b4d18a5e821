"""`fairdesk plans quote | lint | change` as an agent or a script would use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fairdesk.entrypoints.cli.main import app

KILLBILL = Path(__file__).resolve().parents[1] / "data" / "killbill"
runner = CliRunner()
PERIOD = ["--period-start", "2026-11-01T00:00:00+08:00", "--period-end", "2026-12-01T00:00:00+08:00",
          "--at", "2026-11-16T00:00:00+08:00"]


class TestQuote:
    def test_stripes_example_and_its_mirror_are_exact(self) -> None:
        up = runner.invoke(app, ["plans", "quote", "--from-price", "10", "--to-price", "20", *PERIOD, "--json"])
        down = runner.invoke(app, ["plans", "quote", "--from-price", "20", "--to-price", "10", *PERIOD, "--json"])
        assert up.exit_code == down.exit_code == 0
        u, d = json.loads(up.stdout), json.loads(down.stdout)
        assert (u["credit"], u["charge"], u["net"]) == ("5.00", "10.00", "5.00")
        assert (d["credit"], d["charge"], d["net"]) == ("10.00", "5.00", "-5.00")

    def test_a_cancellation_quote_is_all_credit(self) -> None:
        r = runner.invoke(app, ["plans", "quote", "--from-price", "30", "--cancel", *PERIOD, "--json"])
        assert json.loads(r.stdout)["net"] == "-15.00"

    @pytest.mark.parametrize("args", [
        ["--from-price", "10.001", "--to-price", "20", *PERIOD],
        ["--from-price", "10", "--to-price", "20", "--period-start", "2026-11-01T00:00:00",
         "--period-end", "2026-12-01T00:00:00+08:00", "--at", "2026-11-16T00:00:00+08:00"],
        ["--from-price", "10", "--to-price", "20", "--period-start", "yesterday",
         "--period-end", "2026-12-01T00:00:00+08:00", "--at", "2026-11-16T00:00:00+08:00"],
        ["--from-price", "10", *PERIOD],
        ["--from-price", "10", "--to-price", "20", "--period-start", "2026-11-01T00:00:00+08:00",
         "--period-end", "2026-12-01T00:00:00+08:00", "--at", "2027-01-01T00:00:00+08:00"],
    ])
    def test_bad_input_exits_2_with_the_reason(self, args: list[str]) -> None:
        r = runner.invoke(app, ["plans", "quote", *args])
        assert r.exit_code == 2 and r.stderr.startswith("error:")


class TestLint:
    def test_one_rule_passes_and_asymmetry_fails_naming_pairs(self) -> None:
        ok = runner.invoke(app, ["plans", "lint", str(KILLBILL / "monthly-and-annual-plan.xml")])
        bad = runner.invoke(app, ["plans", "lint", str(KILLBILL / "plan-change-timing.xml"), "--json"])
        assert ok.exit_code == 0 and bad.exit_code == 1
        subjects = {f["subject"] for f in json.loads(bad.stdout)["findings"]}
        assert "premium-monthly -> standard-monthly" in subjects

    def test_an_unreadable_catalogue_exits_2(self, tmp_path: Path) -> None:
        (tmp_path / "x.xml").write_bytes(b"<catalog><unclosed>")
        assert runner.invoke(app, ["plans", "lint", str(tmp_path / "x.xml")]).exit_code == 2
        assert runner.invoke(app, ["plans", "lint", str(tmp_path / "missing.xml")]).exit_code == 2
