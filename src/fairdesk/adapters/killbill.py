"""Kill Bill catalogue XML: read it safely, lint it for asymmetric change rules, convert it to our families.

Kill Bill lets a catalogue give every pair of plans its own change policy (IMMEDIATE, END_OF_TERM or ILLEGAL)
and cancellation its own; the first matching case wins, END_OF_TERM when none matches. fairdesk allows one
rule per family for upgrades, downgrades and cancellation alike, so the linter names every place where a
catalogue treats the directions differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import permutations
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.plans import BillingPeriod, ChangePolicy, Plan, PlanFamily, money

__all__ = ["KbCatalogue", "LintFinding", "lint", "parse", "to_families"]

MAX_BYTES = 5_000_000
_PERIODS = {"MONTHLY": BillingPeriod.MONTH, "QUARTERLY": BillingPeriod.QUARTER, "ANNUAL": BillingPeriod.YEAR}
_POLICIES = {"IMMEDIATE": ChangePolicy.IMMEDIATE, "END_OF_TERM": ChangePolicy.NEXT_CYCLE}


@dataclass(frozen=True)
class KbPlan:
    name: str
    product: str
    category: str
    billing_period: str
    price: Decimal
    currency: str
    phases: tuple[str, ...]


@dataclass
class KbCatalogue:
    name: str
    plans: dict[str, KbPlan]
    change_cases: list[dict[str, str]]
    cancel_cases: list[dict[str, str]]

    def change_policy(self, a: KbPlan, b: KbPlan, phase: str) -> str:
        facts = {"phaseType": phase, "fromProduct": a.product, "fromProductCategory": a.category,
                 "fromBillingPeriod": a.billing_period, "toProduct": b.product, "toProductCategory": b.category,
                 "toBillingPeriod": b.billing_period}
        return _first(self.change_cases, facts)

    def cancel_policy(self, a: KbPlan, phase: str) -> str:
        facts = {"phaseType": phase, "product": a.product, "productCategory": a.category,
                 "billingPeriod": a.billing_period}
        return _first(self.cancel_cases, facts)


def _first(cases: list[dict[str, str]], facts: dict[str, str]) -> str:
    for case in cases:
        if all(facts.get(k) == v for k, v in case.items() if k not in ("policy", "fromPriceList", "toPriceList",
                                                                        "priceList")):
            return case["policy"]
    return "END_OF_TERM"  # Kill Bill's default


def _text(el: Element | None, path: str, default: str = "") -> str:
    found = el.find(path) if el is not None else None
    return (found.text or "").strip() if found is not None and found.text else default


def parse(data: bytes) -> KbCatalogue:
    """A Kill Bill catalogue from XML bytes; entity tricks and malformed files are refused clearly."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("catalogue.too_large", f"a catalogue is at most {MAX_BYTES} bytes")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise InvalidInput("catalogue.unsafe_xml", f"refused: {type(exc).__name__}") from exc
    except SafeET.ParseError as exc:
        raise InvalidInput("catalogue.malformed", f"not well-formed XML: {exc}") from exc
    if root.tag != "catalog":
        raise InvalidInput("catalogue.not_killbill", "the root element is not <catalog>")
    categories = {p.get("name", ""): _text(p, "category", "BASE") for p in root.iterfind("products/product")}
    plans: dict[str, KbPlan] = {}
    for p in root.iterfind("plans/plan"):
        name, product = p.get("name", ""), _text(p, "product")
        final = p.find("finalPhase")
        price_el = final.find("recurring/recurringPrice/price") if final is not None else None
        if not name or product not in categories or price_el is None:
            raise InvalidInput("catalogue.incomplete_plan", f"plan {name!r} lacks a product or a recurring price")
        phases = (*(ph.get("type", "") for ph in p.iterfind("initialPhases/phase")), final.get("type", ""))
        plans[name] = KbPlan(name, product, categories[product], _text(final, "recurring/billingPeriod"),
                             money(_text(price_el, "value", "0"), f"price of {name}"), _text(price_el, "currency"),
                             phases)

    def cases(path: str) -> list[dict[str, str]]:
        return [{child.tag: (child.text or "").strip() for child in case} for case in root.iterfind(path)]

    return KbCatalogue(_text(root, "catalogName"), plans, cases("rules/changePolicy/changePolicyCase"),
                       cases("rules/cancelPolicy/cancelPolicyCase"))


@dataclass(frozen=True)
class LintFinding:
    """One place where the catalogue is unfair by fairdesk's rule."""

    rule: str  # asymmetric_change | downgrade_forbidden | cancel_differs
    subject: str  # the pair "A -> B" or the plan
    phase: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "subject": self.subject, "phase": self.phase, "detail": self.detail}


def lint(cat: KbCatalogue) -> list[LintFinding]:
    """Every pair whose up and down rules differ, every forbidden downgrade whose upgrade is allowed, and
    every plan whose cancellation follows another rule than its changes."""
    findings: list[LintFinding] = []
    seen: set[tuple[str, str, str]] = set()
    change_rules: dict[tuple[str, str], set[str]] = {}
    for a, b in permutations(cat.plans.values(), 2):
        if a.category != b.category:
            continue
        for phase in a.phases:
            there, back = cat.change_policy(a, b, phase), cat.change_policy(b, a, phase)
            for plan, policy in ((a.name, there), (b.name, back)):
                if policy != "ILLEGAL":
                    change_rules.setdefault((plan, phase), set()).add(policy)
            if there == back or (b.name, a.name, phase) in seen:
                continue
            seen.add((a.name, b.name, phase))
            cheap, dear = (a, b) if a.price <= b.price else (b, a)
            up, down = cat.change_policy(cheap, dear, phase), cat.change_policy(dear, cheap, phase)
            if down == "ILLEGAL" and up != "ILLEGAL":
                findings.append(LintFinding("downgrade_forbidden", f"{dear.name} -> {cheap.name}", phase,
                                            f"downgrade {dear.name} -> {cheap.name} is ILLEGAL while the upgrade "
                                            f"{cheap.name} -> {dear.name} is {up}"))
            else:
                findings.append(LintFinding("asymmetric_change", f"{cheap.name} <-> {dear.name}", phase,
                                            f"upgrade {cheap.name} -> {dear.name} is {up}, "
                                            f"downgrade {dear.name} -> {cheap.name} is {down}"))
    default_change = _first(cat.change_cases, {})
    for plan in cat.plans.values():
        for phase in plan.phases:
            cancel = cat.cancel_policy(plan, phase)
            rules = change_rules.get((plan.name, phase)) or {default_change}
            if rules != {cancel}:
                findings.append(LintFinding("cancel_differs", plan.name, phase,
                                            f"cancelling {plan.name} is {cancel}, changing it is "
                                            f"{' / '.join(sorted(rules))}"))
    return findings


@dataclass
class Conversion:
    families: dict[str, PlanFamily]
    plans: dict[str, Plan]
    changes: list[str] = field(default_factory=list)  # what normalising changed, one line each


def to_families(cat: KbCatalogue, *, normalise: bool) -> Conversion:
    """One family per product category. An asymmetric catalogue is refused unless ``normalise`` is given,
    in which case each family takes the rule its upgrades had (so downgrades and cancellation get the same)."""
    findings = lint(cat)
    if findings and not normalise:
        names = "; ".join(f"{f.subject} ({f.phase}): {f.detail}" for f in findings)
        raise InvalidInput("catalogue.asymmetric", f"the catalogue treats directions differently: {names}")
    families: dict[str, PlanFamily] = {}
    conv = Conversion(families, {})
    for category in sorted({p.category for p in cat.plans.values()}):
        members = [p for p in cat.plans.values() if p.category == category]
        upgrades = [cat.change_policy(a, b, "EVERGREEN") for a, b in permutations(members, 2) if b.price > a.price]
        allowed = [p for p in upgrades if p != "ILLEGAL"]
        chosen = "IMMEDIATE" if "IMMEDIATE" in allowed else allowed[0] if allowed else _first(cat.change_cases, {})
        policy = _POLICIES.get(chosen, ChangePolicy.NEXT_CYCLE)
        families[category.lower()] = PlanFamily(category.lower(), f"{cat.name} {category}", policy)
        for f in findings:
            if any(f.subject.startswith(m.name) or f.subject.endswith(m.name) for m in members):
                conv.changes.append(f"{f.subject} ({f.phase}): was '{f.detail}', now {policy.value} in every direction")
        for p in members:
            if p.billing_period not in _PERIODS:
                raise InvalidInput("catalogue.period", f"plan {p.name}: billing period {p.billing_period} "
                                                       "is not supported (monthly, quarterly, annual)")
            conv.plans[p.name] = Plan(p.name, category.lower(), p.name, p.price, _PERIODS[p.billing_period])
    return conv
