"""Intent detection on the corpus: ≥ 97 %, every human and complaint caught, no look-alike hand-offs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fairdesk.domain.intents import Intent, classify
from fairdesk.reference.intent_rules import default_rules

CORPUS = [line.split("\t", 1) for line in
          (Path(__file__).resolve().parents[1] / "data" / "intents" / "corpus.tsv").read_text("utf-8").splitlines()
          if line and not line.startswith("#")]


def test_the_corpus_has_at_least_300_messages_and_every_label() -> None:
    assert len(CORPUS) >= 300
    assert {label for label, _ in CORPUS} == {i.value for i in Intent}


def test_the_corpus_passes_at_97_percent_or_better() -> None:
    right = sum(classify(text, default_rules())[0].value == label for label, text in CORPUS)
    assert right / len(CORPUS) >= 0.97


@pytest.mark.parametrize("text", [t for label, t in CORPUS if label in ("human", "complaint")])
def test_every_request_for_a_human_and_every_complaint_is_caught(text: str) -> None:
    expected = next(label for label, t in CORPUS if t == text)
    assert classify(text, default_rules())[0].value == expected


class TestTheHardCases:
    @pytest.mark.parametrize("text", ["人工智能能帮我查保修吗", "人工费怎么算的", "人工成本是不是很高",
                                      "人工湖旁边能上门吗"])
    def test_look_alikes_never_hand_off(self, text: str) -> None:
        assert classify(text, default_rules())[0] is not Intent.HUMAN

    @pytest.mark.parametrize(("text", "intent"), [("我不是要投诉，只是问问保修期", Intent.OTHER),
                                                  ("不用退款了，已经修好了", Intent.OTHER),
                                                  ("我不是要投诉，我要退款", Intent.REFUND),
                                                  ("不用转人工，我自己看看", Intent.OTHER)])
    def test_negations_are_understood(self, text: str, intent: Intent) -> None:
        assert classify(text, default_rules())[0] is intent

    def test_priority_human_then_complaint_then_refund_then_cancel_then_downgrade(self) -> None:
        rules = default_rules()
        assert classify("我要投诉，转人工", rules)[0] is Intent.HUMAN
        assert classify("退款不给就投诉", rules)[0] is Intent.COMPLAINT
        assert classify("取消并退款", rules)[0] is Intent.REFUND
        assert classify("降级不行就取消", rules)[0] is Intent.CANCEL
        assert classify("升级还是降级好", rules)[0] is Intent.DOWNGRADE

    @pytest.mark.parametrize("text", ["", "   ", "😀😀", "x" * 10_000, "<script>alert('转人工')</script>",
                                      "中文English混合"])
    def test_bad_input_is_classified_never_an_error(self, text: str) -> None:
        intent, confidence = classify(text, default_rules())
        assert isinstance(intent, Intent) and 0 <= confidence <= 1


def test_the_cli_prints_one_object_per_stdin_line_in_order() -> None:
    messages = ["转人工", "我要降级", "", "人工智能"]
    out = subprocess.run([sys.executable, "-m", "fairdesk", "contact", "intent", "--json"],
                         input="\n".join(messages) + "\n", capture_output=True, text=True, check=True).stdout
    rows = [json.loads(x) for x in out.splitlines()]
    assert [(r["input"], r["intent"]) for r in rows] == [("转人工", "human"), ("我要降级", "downgrade"), ("", "other"),
                                                         ("人工智能", "other")]
    assert all(list(r) == ["input", "intent", "confidence"] for r in rows)
