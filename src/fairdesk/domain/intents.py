"""What a customer wants, from their message: rules as data, on the raw text, with negation and look-alikes.

Labels in priority order: human > complaint > refund > cancel > downgrade > upgrade > status > repair > other.
A request for a human always wins; 人工智能 is not a request for a human; 我不是要投诉 is not a complaint.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Intent", "IntentRule", "classify"]

MAX_TEXT = 2_000
_SPACES = re.compile(r"\s+")


class Intent(StrEnum):
    HUMAN = "human"
    COMPLAINT = "complaint"
    REFUND = "refund"
    CANCEL = "cancel"
    DOWNGRADE = "downgrade"
    UPGRADE = "upgrade"
    STATUS = "status"  # before repair: "维修进度" asks where a repair stands
    REPAIR = "repair"
    OTHER = "other"


@dataclass(frozen=True)
class IntentRule:
    """One label: what finds it, what says it in the negative, and look-alike words to ignore."""

    label: Intent
    patterns: tuple[re.Pattern[str], ...]
    negated: tuple[re.Pattern[str], ...] = ()
    lookalike: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: str) -> bool:
        for word in self.lookalike:
            text = word.sub("□", text)
        for negation in self.negated:
            text = negation.sub("□", text)
        return any(p.search(text) for p in self.patterns)


def normalize(text: str) -> str:
    """NFKC, lower-case, one space between words, HTML tags dropped, the first 2,000 characters."""
    text = unicodedata.normalize("NFKC", text[: MAX_TEXT * 2])
    text = re.sub(r"<[^>]{0,200}>", " ", text)
    return _SPACES.sub(" ", text).strip().lower()[:MAX_TEXT]


def classify(text: str, rules: Iterable[IntentRule]) -> tuple[Intent, float]:
    """The intent of one message and a confidence: 0.95 for one clear label, lower when several compete."""
    text = normalize(text)
    if not text:
        return Intent.OTHER, 0.0
    found = [r.label for r in rules if r.matches(text)]
    if not found:
        return Intent.OTHER, 0.3
    return found[0], 0.95 if len(found) == 1 else round(0.95 - 0.1 * (len(found) - 1), 2)
