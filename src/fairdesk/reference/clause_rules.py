"""Loads the unfair-clause rules shipped as data in fairdesk/data/clause_rules.toml."""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources

from fairdesk.domain.clauses import ClauseRule

__all__ = ["default_rules"]


@functools.cache
def default_rules() -> tuple[ClauseRule, ...]:
    raw = tomllib.loads((resources.files("fairdesk") / "data" / "clause_rules.toml").read_text("utf-8"))
    return tuple(ClauseRule(r["id"], r["title"], r["basis"], r["suggestion"],
                            tuple(re.compile(p) for p in r["patterns"]),
                            tuple(re.compile(u) for u in r.get("unless", ()))) for r in raw["rule"])
