"""Loads the intent rules shipped as data in fairdesk/data/intent_rules.toml."""

from __future__ import annotations

import functools
import re
import tomllib
from importlib import resources

from fairdesk.domain.intents import Intent, IntentRule

__all__ = ["default_rules"]


@functools.cache
def default_rules() -> tuple[IntentRule, ...]:
    raw = tomllib.loads((resources.files("fairdesk") / "data" / "intent_rules.toml").read_text("utf-8"))
    rules = [IntentRule(Intent(r["label"]), tuple(re.compile(p) for p in r["patterns"]),
                        tuple(re.compile(p) for p in r.get("negated", ())),
                        tuple(re.compile(p) for p in r.get("lookalike", ()))) for r in raw["intent"]]
    order = list(Intent)
    return tuple(sorted(rules, key=lambda r: order.index(r.label)))
