"""Unfair-clause review on its corpus, and phone numbers found in the spellings spam uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairdesk.domain.channels import Status, classify, find_numbers, normalize_phone, normalize_website
from fairdesk.domain.clauses import check, split_clauses
from fairdesk.domain.errors import InvalidInput
from fairdesk.reference.clause_rules import default_rules

DATA = Path(__file__).resolve().parents[1] / "data"


def corpus(name: str) -> list[str]:
    return [x for x in (DATA / "clauses" / name).read_text("utf-8").splitlines() if x and not x.startswith("#")]


class TestClauseCorpus:
    @pytest.mark.parametrize("line", corpus("unfair.txt"))
    def test_every_planted_unfair_clause_is_found_with_its_rule(self, line: str) -> None:
        rule, clause = line.split("\t")
        findings = check(clause, default_rules())
        assert rule in {f.rule for f in findings}
        assert all(f.basis and f.suggestion for f in findings)

    @pytest.mark.parametrize("clause", corpus("fair.txt"))
    def test_fair_clauses_raise_no_alarm(self, clause: str) -> None:
        assert check(clause, default_rules()) == []

    def test_a_whole_contract_is_split_and_only_its_unfair_clauses_flagged(self) -> None:
        contract = "\n".join(["第一条 用户可随时在线取消服务，取消不收取任何费用。",
                              "第二条 本活动最终解释权归本公司所有。",
                              "第三条 会员升级立即生效，降级将于下一个计费周期开始后生效。"])
        findings = check(contract, default_rules())
        assert [f.rule for f in findings] == ["final_interpretation", "asymmetric_change"]
        assert findings[0].clause == "第二条 本活动最终解释权归本公司所有。"

    def test_huge_and_binary_texts_are_handled_without_error(self) -> None:
        assert check("x" * 3_000_000, default_rules()) == []
        assert check(bytes(range(256)).decode("latin-1") * 100, default_rules()) == []
        assert max(len(c) for c in split_clauses("无标点" * 5000)) <= 2000


PAGE = (DATA / "spam_page.html").read_text("utf-8")


class TestFindingNumbers:
    def test_every_number_on_a_keyword_stuffed_page_is_found(self) -> None:
        found = {f.normalized for f in find_numbers(PAGE)}
        assert found == {
            "+864001234567", "+864006668888", "+864009988776", "+8613800138000", "+8601066885599",
            "+8602155667788", "+8602088776655", "+8613912345678", "+8618600001111", "+864008886666"}

    def test_prices_dates_and_registration_numbers_are_not_phone_numbers(self) -> None:
        assert find_numbers("价格：99 元起，2024 年 10 月 1 日起执行，京ICP备12345678号，网点 3000 家") == []

    def test_classification(self) -> None:
        official = {"+864008886666": "安固保险柜"}
        assert classify("+864008886666", official, ["安固保险柜"]) == (Status.OFFICIAL, "安固保险柜")
        assert classify("+864001234567", official, ["安固保险柜"]) == (Status.IMPOSTOR, "安固保险柜")
        assert classify("+864001234567", official, []) == (Status.UNKNOWN, None)

    @pytest.mark.parametrize(("raw", "normalized"), [("400-888-6666", "+864008886666"),
                                                     ("+86 138 0013 8000", "+8613800138000"),
                                                     ("（010）6688-5599", "+8601066885599")])
    def test_normalized_forms(self, raw: str, normalized: str) -> None:
        assert normalize_phone(raw) == normalized

    def test_bad_channels_are_refused(self) -> None:
        for bad in ("12345", "hello"):
            with pytest.raises(InvalidInput):
                normalize_phone(bad)
        assert normalize_website("HTTPS://WWW.Angu-Safes.example/") == "angu-safes.example"
