"""Review of standard-form contract terms: split a text into clauses and flag the ones known to be unfair."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ClauseRule", "Finding", "check", "split_clauses"]

MAX_TEXT = 2_000_000
MAX_CLAUSE = 2_000
# Clause boundaries: sentence ends, new lines, and numbered items (1. / （一） / 第三条). Not ；: in contracts it
# joins the halves of one clause ("升级即时生效；降级于到期后生效").
_NUMBERED = r"第[一二三四五六七八九十百\d]+条|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]\s"
_BOUNDARY = re.compile(rf"(?<=[。!?！？])|\n+|(?=\s*(?:{_NUMBERED}))")


@dataclass(frozen=True)
class ClauseRule:
    """One kind of unfair term: what finds it, what clears it, its legal basis and a fair rewrite."""

    id: str
    title: str
    basis: str
    suggestion: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()

    def matches(self, clause: str) -> bool:
        return any(p.search(clause) for p in self.patterns) and not any(u.search(clause) for u in self.unless)


@dataclass(frozen=True)
class Finding:
    clause: str
    rule: str
    basis: str
    suggestion: str

    def as_dict(self) -> dict[str, str]:
        return {"clause": self.clause, "rule": self.rule, "basis": self.basis, "suggestion": self.suggestion}


def split_clauses(text: str) -> list[str]:
    """Clauses of a contract, in order, stripped; over-long runs are cut so that no clause hides a book."""
    text = unicodedata.normalize("NFKC", text)[:MAX_TEXT]
    out = []
    for piece in _BOUNDARY.split(text):
        piece = piece.strip()
        while len(piece) > MAX_CLAUSE:
            out.append(piece[:MAX_CLAUSE])
            piece = piece[MAX_CLAUSE:]
        if piece:
            out.append(piece)
    return out


def check(text: str, rules: Iterable[ClauseRule]) -> list[Finding]:
    """Every clause that breaks a rule, once per rule, in the order they appear."""
    rules = list(rules)
    return [Finding(clause, r.id, r.basis, r.suggestion)
            for clause in split_clauses(text) for r in rules if r.matches(clause)]
