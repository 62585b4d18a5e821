"""What people read of records the code keeps as codes: an evidence entry, a complaint's case file — in the
reader's language, with times in Asia/Shanghai and people by their role, never an event code or a UTC stamp.

The records themselves (the evidence bundle's JSON, the case's JSON) keep their codes: they are what a verifier
checks. This module is for the printed copy a person reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.evidence import EvidenceKind as K
from fairdesk.i18n import N_, t

__all__ = ["EVIDENCE_KINDS", "case_rows", "evidence_line", "local_time", "plan_line", "value_word", "who"]

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: What happened, by evidence kind: every kind has its words (tests/unit/test_words.py fails when one has none).
EVIDENCE_KINDS: dict[EvidenceKind, str] = {
    K.TICKET_CREATED: N_("Request opened"),
    K.TICKET_MOVED: N_("Request status changed"),
    K.TICKET_COMMENTED: N_("Comment added"),
    K.TICKET_ATTACHMENT: N_("File added to the request"),
    K.TICKET_ASSIGNED: N_("Request handed to a colleague"),
    K.VISIT_BOOKED: N_("Visit booked"),
    K.VISIT_MOVED: N_("Visit moved"),
    K.VISIT_CANCELLED: N_("Visit cancelled"),
    K.VISIT_CHECKED_IN: N_("Technician arrived"),
    K.VISIT_COMPLETED: N_("Visit completed"),
    K.VISIT_NO_SHOW: N_("Nobody was at home for the visit"),
    K.SUBSCRIPTION_STARTED: N_("Plan started"),
    K.SUBSCRIPTION_CHANGED: N_("Plan changed"),
    K.SUBSCRIPTION_RENEWED: N_("Plan renewed"),
    K.SUBSCRIPTION_ENDED: N_("Plan ended"),
    K.SUBSCRIPTION_RESUMED: N_("Plan resumed"),
    K.SURVEY_ANSWERED: N_("Rating given"),
    K.CONVERSATION_MESSAGE: N_("Chat message"),
    K.CONVERSATION_HUMAN_REQUESTED: N_("Asked for a person"),
    K.CONVERSATION_ASSIGNED: N_("Conversation given to an agent"),
    K.CONVERSATION_CLAIMED: N_("An agent took the conversation"),
    K.CONVERSATION_ANSWERED: N_("An agent answered"),
    K.CONVERSATION_TRANSFERRED: N_("Conversation transferred"),
    K.CONVERSATION_OVERDUE: N_("Waited past the published limit for a person"),
    K.ROUTING_POLICY_CHANGED: N_("Routing policy changed"),
    K.COMPLAINT_FILED: N_("Complaint filed"),
    K.COMPLAINT_ACCEPT: N_("Complaint accepted"),
    K.COMPLAINT_REJECT: N_("Complaint not accepted"),
    K.COMPLAINT_RESPOND: N_("The business answered"),
    K.COMPLAINT_PROPOSE: N_("The business proposed a settlement"),
    K.COMPLAINT_CONFIRM: N_("The consumer agreed"),
    K.COMPLAINT_DECLINE: N_("The consumer declined"),
    K.COMPLAINT_END_MEDIATION: N_("Mediation ended"),
    K.COMPLAINT_CLOSE: N_("Complaint closed"),
    K.COMPLAINT_COMMENT: N_("Comment on the complaint"),
    K.COMPLAINT_ATTACHMENT: N_("Evidence added to the complaint"),
    K.COMPLAINT_OVERDUE: N_("A complaint deadline was missed"),
    K.COMPLAINT_GROUP_CONSENT: N_("Joined a joint complaint"),
    K.COMPLAINT_GROUP_DECLINE: N_("Declined a joint complaint"),
    K.TECHNICIAN_ADDED: N_("Technician added"),
    K.TECHNICIAN_CHANGED: N_("Technician's details changed"),
    K.TECHNICIAN_CERTIFIED: N_("Technician certified"),
    K.TECHNICIAN_LEAVE: N_("Technician's leave entered"),
    K.OUTLET_HOURS: N_("Outlet opening hours changed"),
    K.OUTLET_CLOSED: N_("Outlet closure day entered"),
    K.STOCK_RECEIVE: N_("Parts received"),
    K.STOCK_TRANSFER: N_("Parts transferred"),
    K.STOCK_RESERVE: N_("Parts set aside for a visit"),
    K.STOCK_CONSUME: N_("Parts fitted"),
    K.STOCK_RELEASE: N_("Parts given back to stock"),
    K.STOCK_RETURN: N_("Parts returned to stock"),
    K.STOCK_SCRAP: N_("Parts written off"),
    K.IMPORT_TECHNICIANS: N_("Technicians imported"),
    K.IMPORT_CERTIFICATIONS: N_("Certificates imported"),
    K.IMPORT_STOCK: N_("Stock imported"),
    K.BRAND_REGISTRATION: N_("Brand's registered name and address changed"),
    K.CALENDAR_APPLIED: N_("Official working-day calendar applied"),
}

#: An entry of a kind the table above does not name.
ANOTHER_RECORD = N_("Another record")

_LATIN_ONLY = re.compile(r"^[\x00-\x7f]*$")


def local_time(value: str | datetime | None, lang: str = "zh-CN", *, seconds: bool = False) -> str:
    """``2026-12-02 08:30`` in Shanghai time, from a stored (UTC or offset) time; "" for none."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:  # a naive value is a local date/time as written
        return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def who(by: str | None, lang: str) -> str:
    """A recorded actor (``agent:zhang``, ``customer:customer``, ``system:sla``) by the role a reader knows."""
    role = (by or "").split(":", 1)[0]
    if role in ("customer", "agent", "dispatcher", "technician", "manager", "auditor"):
        return t(f"role {role}", lang)
    return t("system", lang)


def _note(note: Any, lang: str) -> str:
    text = str(note or "").strip()
    if not text:
        return ""
    if (said := value_word("reason", text, lang)) != text:  # a reason the system wrote, in the catalogs
        return said
    # a note the system wrote in English for staff is not the reader's business; a person's words are
    return text if lang != "zh-CN" or not _LATIN_ONLY.match(text) else ""


def value_word(prefix: str, value: Any, lang: str) -> str:
    """A value's word (``payment alipay`` → 支付宝), or the value itself where the catalogs have none."""
    key = f"{prefix} {value}"
    word = t(key, lang)
    return str(value) if word == key else word


def plan_line(line: Any, lang: str) -> str:
    """A quote's line or a receipt's stored line in words: the credit for the unused paid part, or the charge at
    the new price."""
    get = line.get if isinstance(line, Mapping) else lambda key: getattr(line, key, None)
    pct = get("percent") or ""
    if get("kind") == "credit":
        return t("Unused part of the amount paid (share of the period: {pct}%)", lang).format(pct=pct)
    return t("The rest of the period at the new price (share of the period: {pct}%)", lang).format(pct=pct)


def _money(value: Any) -> str:
    try:
        return f"¥{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def evidence_line(kind: str, payload: Mapping[str, Any], lang: str,
                  names: Mapping[str, Mapping[str, str]] | None = None) -> tuple[str, str]:
    """(what happened, its details) of one evidence entry, for a person; ``names`` gives plans' and parts'
    names by code (``{"plans": {...}, "parts": {...}}``)."""
    names = names or {}
    plans, parts = names.get("plans", {}), names.get("parts", {})
    what = t(EVIDENCE_KINDS.get(kind, ANOTHER_RECORD), lang)
    sep = "：" if lang == "zh-CN" else ": "
    details: list[str] = []

    def add(label: str, value: str) -> None:
        if value:
            details.append(f"{t(label, lang)}{sep}{value}")

    formats: list[tuple[str, str, Callable[[Any], str]]] = [
        ("number", N_("Number"), str),
        ("subject", N_("Subject"), str),
        ("category", N_("Category"), lambda v: t(str(v), lang)),
        ("channel", N_("Channel"), lambda v: t(f"channel {v}", lang)),
        ("priority", N_("Priority"), lambda v: t(str(v), lang)),
        ("plan", N_("Plan"), lambda v: plans.get(str(v), str(v))),
        ("price", N_("Price"), _money),
        ("net", N_("Amount"), _money),
        ("period_end", N_("Paid until"), lambda v: local_time(v, lang)[:10]),
        ("effective_at", N_("Takes effect"), lambda v: local_time(v, lang)),
        ("payment_method", N_("Payment method"), lambda v: value_word("payment", v, lang)),
        ("auto_renew", N_("Renews automatically"), lambda v: t("yes", lang) if v else t("no", lang)),
        ("score", N_("Score"), str),
        ("facts", N_("Facts"), str),
        ("request", N_("What the consumer asks"), str),
        ("green", N_("Green channel"), lambda v: t("yes", lang) if v else ""),
        ("text", N_("Message"), str),
    ]
    for key, label, fmt in formats:
        if payload.get(key) not in (None, ""):
            add(label, fmt(payload[key]))
    if payload.get("from") and payload.get("to") is not None and kind.startswith("subscription."):
        add(N_("Plan"), f"{plans.get(payload['from'], payload['from'])} → "
                        f"{plans.get(payload['to'], payload['to']) if payload['to'] else t('cancelled', lang)}")
    elif payload.get("to") and kind.startswith("ticket."):
        add(N_("Status"), f"{t(str(payload.get('from') or ''), lang)} → {t(str(payload['to']), lang)}")
    elif payload.get("status"):
        add(N_("Status"), t(str(payload["status"]), lang))
    if payload.get("starts_at"):
        add(N_("Visit"), f"{local_time(payload['starts_at'], lang)}–{local_time(payload.get('ends_at'), lang)[11:]}")
    if payload.get("parts"):
        add(N_("Parts"), "、".join(f"{parts.get(p.get('sku', ''), p.get('sku', ''))} ×{p.get('qty', 1)}"
                                   for p in payload["parts"]))
    for key in ("due_first_response", "due_acceptance"):
        if payload.get(key):
            add(f"deadline {key.removeprefix('due_')}", local_time(payload[key], lang))
    if payload.get("missed"):
        add(N_("Missed"), "、".join(t(f"deadline {m}", lang) for m in payload["missed"]))
    add(N_("Note"), _note(payload.get("note"), lang))
    if payload.get("by"):
        add(N_("By"), who(payload["by"], lang))
    return what, "；".join(details) if lang == "zh-CN" else "; ".join(details)


def case_rows(case: Mapping[str, Any], lang: str) -> dict[str, list[list[str]]]:
    """A complaint case file's tables in words: the filing form, deadlines, timeline, attachments, chain and
    where to file next (the case JSON keeps the codes)."""
    c = case["complaint"]
    form = case["form"]
    rows: dict[str, list[list[str]]] = {
        "form": [[t(label, lang), (t(form[key], lang) if key == "category" else
                                   local_time(form[key], lang) if key == "filed" else str(form.get(key) or "—"))]
                 for key, label in (
            ("complainant", N_("Complainant")), ("phone", N_("Phone")), ("business", N_("Business complained about")),
            ("business_address", N_("Business address")), ("outlet_address", N_("Outlet address")),
            ("category", N_("Category")),
            ("request", N_("What the consumer asks")), ("facts", N_("Facts and reasons")),
            ("reference", N_("Related request")), ("number", N_("Complaint number")), ("filed", N_("Filed at")))],
        "deadlines": [[t(f"deadline {k}", lang), local_time(v, lang) or "—"] for k, v in c["deadlines"].items()],
        "timeline": [[local_time(e["at"], lang), t(e["side"], lang),
                      t(e["kind"], lang) + (f" → {t(e['to'], lang)}" if e.get("to") else ""),
                      _note(e.get("note"), lang)]
                     for e in c.get("events", [])],
        "attachments": [[a["filename"], a["content_type"], a["sha256"]] for a in c.get("attachments", [])],
        "chain": [[str(e["seq"]), local_time(e["at"], lang, seconds=True),
                   t(EVIDENCE_KINDS.get(e["kind"], ANOTHER_RECORD), lang), e["hash"]]
                  for e in case["evidence_chain"]],
        "next": [[b["name_zh"] if lang == "zh-CN" else b["name_en"], b["phone"], b["url"],
                  b["what_zh"] if lang == "zh-CN" else b.get("what_en", b["what_zh"])] for b in case["where_to_file"]],
    }
    rows["deadlines"].append([t("Missed", lang), "、".join(t(f"deadline {m}", lang) for m in c["overdue"]) or "—"])
    return rows
