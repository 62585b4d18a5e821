"""Complaints: a workflow on deadlines in working days, a green channel, group complaints, where to go next.

The rules follow the public anchors of the field (sources in docs/complaints.md):

- 12315 (《市场监督管理投诉举报处理暂行办法》): a complaint is accepted or rejected within 7 working days; mediation
  ends when no agreement is reached within 45 working days of acceptance; two or more consumers with the same
  complaint against the same business may complain together and choose one or two representatives.
- The US CFPB: a business responds within 15 days.
- 黑猫投诉: the business's first reply counts as handled, only the consumer marks a complaint complete, and no
  complaint is ever deleted.

Periods in working days follow the civil code's rule (民法典 第二百零一条): the day the period starts is not
counted; it ends at the end of its last working day (statutory holidays and make-up working days included).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from fairdesk.domain.errors import Conflict, Forbidden, InvalidInput

__all__ = [
    "DEFAULT_TERMS",
    "GREEN",
    "GREEN_TERMS",
    "MAX_REPRESENTATIVES",
    "Category",
    "Complaint",
    "RejectReason",
    "Side",
    "Status",
    "Terms",
    "add_working_days",
    "cluster",
    "queue_key",
    "shingles",
    "similarity",
    "working_days_in",
]


class Category(StrEnum):
    SERVICE_QUALITY = "service_quality"
    REPAIR = "repair"
    PARTS = "parts"
    BILLING = "billing"
    PLAN_CHANGE = "plan_change"
    REFUND = "refund"
    CANCELLATION = "cancellation"
    HUMAN_ACCESS = "human_access"
    CONTRACT_TERMS = "contract_terms"
    OTHER = "other"


#: The green channel: what the field is known to obstruct goes first and on shorter deadlines.
GREEN = frozenset({Category.PLAN_CHANGE, Category.REFUND, Category.CANCELLATION, Category.HUMAN_ACCESS})


class Status(StrEnum):
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MEDIATION = "mediation"
    SETTLED = "settled"  # the consumer confirmed it resolved
    MEDIATION_ENDED = "mediation_ended"  # no agreement within the mediation period
    CLOSED = "closed"


OPEN = frozenset({Status.RECEIVED, Status.ACCEPTED, Status.MEDIATION})
ENDED = frozenset({Status.REJECTED, Status.SETTLED, Status.MEDIATION_ENDED, Status.CLOSED})


class RejectReason(StrEnum):
    """The grounds the 12315 rules list for not accepting a complaint (不予受理), the ones a business can give."""

    NOT_A_CONSUMER_DISPUTE = "not_a_consumer_dispute"  # 不属于消费者权益争议
    NOT_THIS_BUSINESS = "not_this_business"  # 被投诉人不是本经营者
    ALREADY_HANDLED = "already_handled"  # 已经处理过且无新情况、新理由
    COURT_OR_ARBITRATION = "court_or_arbitration"  # 法院、仲裁机构已受理或处理
    INSUFFICIENT_INFORMATION = "insufficient_information"  # 未提供必要信息且补充后仍不足
    DUPLICATE = "duplicate"  # 同一投诉重复提交


class Side(StrEnum):
    CONSUMER = "consumer"
    BUSINESS = "business"
    SYSTEM = "system"


#: Who may make each move. Only the consumer settles or closes; nothing ever deletes a complaint.
MOVES: dict[tuple[Status, Status], frozenset[Side]] = {
    (Status.RECEIVED, Status.ACCEPTED): frozenset({Side.BUSINESS}),
    (Status.RECEIVED, Status.REJECTED): frozenset({Side.BUSINESS}),
    (Status.ACCEPTED, Status.MEDIATION): frozenset({Side.BUSINESS}),
    (Status.ACCEPTED, Status.SETTLED): frozenset({Side.CONSUMER}),
    (Status.MEDIATION, Status.SETTLED): frozenset({Side.CONSUMER}),
    (Status.MEDIATION, Status.MEDIATION_ENDED): frozenset({Side.CONSUMER, Side.SYSTEM}),
    **{(s, Status.CLOSED): frozenset({Side.CONSUMER}) for s in Status if s is not Status.CLOSED},
}


@dataclass(frozen=True)
class Terms:
    """Deadlines of one channel: acceptance and the end of mediation in working days, the first business
    response in hours of the clock (the CFPB's 15 days are calendar days)."""

    acceptance_wd: int
    first_response_h: int
    mediation_wd: int

    def __post_init__(self) -> None:
        if not (1 <= self.acceptance_wd <= 30 and 1 <= self.first_response_h <= 24 * 60
                and 1 <= self.mediation_wd <= 90):
            raise InvalidInput("complaint.terms", "acceptance is 1-30 working days, the first response 1-1440 hours "
                                                  "and mediation 1-90 working days")

    def as_dict(self) -> dict[str, int]:
        return {"acceptance_wd": self.acceptance_wd, "first_response_h": self.first_response_h,
                "mediation_wd": self.mediation_wd}


#: 12315's 7 and 45 working days; the CFPB's 15 days for the first response.
DEFAULT_TERMS = Terms(acceptance_wd=7, first_response_h=15 * 24, mediation_wd=45)
#: The green channel: accepted the next working day, answered within 24 hours, mediated within 15 working days.
GREEN_TERMS = Terms(acceptance_wd=1, first_response_h=24, mediation_wd=15)
MAX_REPRESENTATIVES = 2


def add_working_days(start: datetime, n: int, tz: ZoneInfo, is_workday: Callable[[date], bool],
                     closures: Iterable[date] = ()) -> datetime:
    """The end of the ``n``-th working day after the local day of ``start`` (that day itself not counted)."""
    if n < 1:
        raise InvalidInput("complaint.terms", "a period is at least one working day")
    closed = frozenset(closures)
    day, left = start.astimezone(tz).date(), n
    for _ in range(n * 7 + 60):  # no run of holidays is longer than a few weeks
        day += timedelta(days=1)
        if is_workday(day) and day not in closed:
            left -= 1
            if left == 0:
                return datetime.combine(day + timedelta(days=1), time(0), tz)
    raise InvalidInput("complaint.terms", "no working days found in the period")



def working_days_in(start: datetime, due: datetime, tz: ZoneInfo, is_workday: Callable[[date], bool],
                    closures: Iterable[date] = ()) -> int:
    """How many working days a deadline made by ``add_working_days`` from ``start`` counts (its inverse), so
    it can be counted again on another calendar with the terms it was made with."""
    closed = frozenset(closures)
    day, last = start.astimezone(tz).date() + timedelta(days=1), due.astimezone(tz).date() - timedelta(days=1)
    n = 0
    while day <= last:
        n += is_workday(day) and day not in closed
        day += timedelta(days=1)
    return n

@dataclass(eq=False)
class Complaint:
    """One complaint. Its history is the list of events kept beside it; this object guards the moves."""

    brand_id: int
    customer_id: int
    number: str
    category: Category
    green: bool
    status: Status
    complainant: str
    contact_phone: str
    request: str
    facts: str
    received_at: datetime
    due_acceptance: datetime
    due_first_response: datetime
    outlet_id: int | None = None
    ticket_id: int | None = None
    subscription_id: int | None = None
    conversation_id: int | None = None
    accepted_at: datetime | None = None
    first_response_at: datetime | None = None
    due_mediation: datetime | None = None
    reject_reason: RejectReason | None = None
    proposal: str | None = None
    ended_at: datetime | None = None
    consumer_confirmed: bool = False
    closed_at: datetime | None = None
    group_id: int | None = None
    escalated_at: datetime | None = None
    id: int | None = None

    def move(self, to: Status, side: Side, at: datetime) -> tuple[Status, Status]:
        """Make a move if ``side`` may; the workflow's only door."""
        allowed = MOVES.get((self.status, to))
        if allowed is None:
            raise Conflict("complaint.illegal_move", f"a {self.status.value} complaint cannot become {to.value}")
        if side not in allowed:
            if to in (Status.SETTLED, Status.CLOSED):
                raise Forbidden("complaint.consumer_only",
                                "only the consumer confirms a complaint resolved or closes it")
            raise Forbidden("complaint.business_only", f"only the business may make a complaint {to.value}")
        move = (self.status, to)
        self.status = to
        if to is Status.ACCEPTED:
            self.accepted_at = at
        elif to is Status.SETTLED:
            self.consumer_confirmed = True
            self.ended_at = at
        elif to in (Status.REJECTED, Status.MEDIATION_ENDED):
            self.ended_at = at
        elif to is Status.CLOSED:
            self.closed_at = at
            self.ended_at = self.ended_at or at
        return move

    @property
    def open(self) -> bool:
        return self.status in OPEN

    def overdue(self, now: datetime) -> list[str]:
        """The deadlines that passed unmet at ``now``."""
        out = []
        if self.status is Status.RECEIVED and now >= self.due_acceptance:
            out.append("acceptance")
        if self.first_response_at is None and self.open and now >= self.due_first_response:
            out.append("first_response")
        if self.first_response_at is not None and self.first_response_at > self.due_first_response:
            out.append("first_response")
        if self.status is Status.MEDIATION and self.due_mediation is not None and now >= self.due_mediation:
            out.append("mediation")
        return out

    def next_due(self) -> datetime | None:
        """The nearest deadline still running (the queue sorts on it)."""
        dues = []
        if self.status is Status.RECEIVED:
            dues.append(self.due_acceptance)
        if self.open and self.first_response_at is None:
            dues.append(self.due_first_response)
        if self.status is Status.MEDIATION and self.due_mediation is not None:
            dues.append(self.due_mediation)
        return min(dues) if dues else None


def queue_key(green: bool, next_due: datetime | None, received_at: datetime) -> tuple[int, int, datetime, datetime]:
    """The order of the handling queue: green-channel complaints first, always; then the nearest deadline."""
    far = datetime.max.replace(tzinfo=received_at.tzinfo)
    return (0 if green else 1, 0 if next_due else 1, next_due or far, received_at)


# --- grouping ------------------------------------------------------------------------------------------------

_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def shingles(text: str) -> frozenset[str]:
    """Character bigrams of the text without punctuation and spaces (works for Chinese without a segmenter)."""
    norm = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())
    if len(norm) < 2:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i:i + 2] for i in range(len(norm) - 1))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


#: Two complaints are about the same issue when their texts share this much (Jaccard of bigrams).
SIMILAR = 0.3
#: A bigram found in this many complaints already says little on its own: later complaints are compared
#: through their rarer bigrams and the members already indexed (a big group stays linear, not quadratic).
POSTING_CAP = 64


def cluster(items: Sequence[tuple[int, str, frozenset[str]]], threshold: float = SIMILAR) -> list[list[int]]:
    """Groups of two or more ids with the same key (business × category) and similar text: the connected
    parts of the 'similar' graph. An inverted index of bigrams keeps the pairs compared to those sharing one,
    each bigram's list capped at POSTING_CAP."""
    parent = {i: i for i, _, _ in items}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_key: dict[str, list[tuple[int, frozenset[str]]]] = {}
    for i, key, sh in items:
        by_key.setdefault(key, []).append((i, sh))
    for members in by_key.values():
        index: dict[str, list[int]] = {}
        sets = dict(members)
        for i, sh in members:
            seen: set[int] = set()
            for g in sh:
                for j in index.get(g, ()):
                    if j not in seen:
                        seen.add(j)
                        # Already joined through another member: no need to compare (large groups stay linear).
                        if find(i) != find(j) and similarity(sh, sets[j]) >= threshold:
                            parent[find(i)] = find(j)
                posting = index.setdefault(g, [])
                if len(posting) < POSTING_CAP:
                    posting.append(i)
    groups: dict[int, list[int]] = {}
    for i, _, _ in items:
        groups.setdefault(find(i), []).append(i)
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: g[0])
