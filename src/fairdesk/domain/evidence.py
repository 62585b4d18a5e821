"""The tamper-evident event log: a hash chain per brand, Merkle checkpoints, and their verification.

Each entry commits to its content and to the previous entry's hash, so an edit, deletion or reordering
anywhere breaks the chain where it happened. Periodically a checkpoint takes the Merkle root of the entries
since the previous checkpoint and the chain's head, and the brand signs it (Ed25519, in services/signing.py). A
consumer's bundle carries their entries with Merkle inclusion proofs, so it verifies offline without
revealing anyone else's entries. Hashes follow RFC 6962: leaf = SHA-256(0x00 ‖ entry hash),
node = SHA-256(0x01 ‖ left ‖ right).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "GENESIS",
    "Checkpoint",
    "Entry",
    "EvidenceKind",
    "Problem",
    "checkpoint_message",
    "entry_hash",
    "merkle_proof",
    "merkle_root",
    "verify_chain",
    "verify_proof",
]

GENESIS = "0" * 64


class EvidenceKind(StrEnum):
    """Every kind of entry the log holds: what happened, to what. The words people read for each are in
    ``fairdesk/words.py`` (``EVIDENCE_KINDS``, through the catalogs); a test fails when one has none."""

    TICKET_CREATED = "ticket.created"
    TICKET_MOVED = "ticket.moved"
    TICKET_COMMENTED = "ticket.commented"
    TICKET_ATTACHMENT = "ticket.attachment"
    TICKET_ASSIGNED = "ticket.assigned"
    VISIT_BOOKED = "visit.booked"
    VISIT_MOVED = "visit.moved"
    VISIT_CANCELLED = "visit.cancelled"
    VISIT_CHECKED_IN = "visit.checked_in"
    VISIT_COMPLETED = "visit.completed"
    VISIT_NO_SHOW = "visit.no_show"
    SUBSCRIPTION_STARTED = "subscription.started"
    SUBSCRIPTION_CHANGED = "subscription.changed"
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    SUBSCRIPTION_ENDED = "subscription.ended"
    SUBSCRIPTION_RESUMED = "subscription.resumed"
    SURVEY_ANSWERED = "survey.answered"
    CONVERSATION_MESSAGE = "conversation.message"
    CONVERSATION_HUMAN_REQUESTED = "conversation.human_requested"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_CLAIMED = "conversation.claimed"
    CONVERSATION_ANSWERED = "conversation.answered"
    CONVERSATION_TRANSFERRED = "conversation.transferred"
    CONVERSATION_OVERDUE = "conversation.overdue"
    ROUTING_POLICY_CHANGED = "routing.policy_changed"
    COMPLAINT_FILED = "complaint.filed"
    COMPLAINT_ACCEPT = "complaint.accept"
    COMPLAINT_REJECT = "complaint.reject"
    COMPLAINT_RESPOND = "complaint.respond"
    COMPLAINT_PROPOSE = "complaint.propose"
    COMPLAINT_CONFIRM = "complaint.confirm"
    COMPLAINT_DECLINE = "complaint.decline"
    COMPLAINT_END_MEDIATION = "complaint.end_mediation"
    COMPLAINT_CLOSE = "complaint.close"
    COMPLAINT_COMMENT = "complaint.comment"
    COMPLAINT_ATTACHMENT = "complaint.attachment"
    COMPLAINT_OVERDUE = "complaint.overdue"
    COMPLAINT_GROUP_CONSENT = "complaint.group_consent"
    COMPLAINT_GROUP_DECLINE = "complaint.group_decline"
    TECHNICIAN_ADDED = "technician.added"
    TECHNICIAN_CHANGED = "technician.changed"
    TECHNICIAN_CERTIFIED = "technician.certified"
    TECHNICIAN_LEAVE = "technician.leave"
    OUTLET_HOURS = "outlet.hours"
    OUTLET_CLOSED = "outlet.closed"
    STOCK_RECEIVE = "stock.receive"
    STOCK_TRANSFER = "stock.transfer"
    STOCK_RESERVE = "stock.reserve"
    STOCK_CONSUME = "stock.consume"
    STOCK_RELEASE = "stock.release"
    STOCK_RETURN = "stock.return"
    STOCK_SCRAP = "stock.scrap"
    IMPORT_TECHNICIANS = "import.technicians"
    IMPORT_CERTIFICATIONS = "import.certifications"
    IMPORT_STOCK = "import.stock"
    BRAND_REGISTRATION = "brand.registration"
    CALENDAR_APPLIED = "calendar.applied"


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Entry:
    """One event in a brand's log."""

    seq: int
    at: str  # ISO 8601, UTC
    kind: str  # ticket.created, subscription.changed, …
    subject: str  # ticket:12, subscription:3
    customer_id: int | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str = ""

    def content(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "kind": self.kind, "subject": self.subject,
                "customer_id": self.customer_id, "payload": self.payload}


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(content)).hexdigest()


def _leaf(h: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(h)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(hashes: Sequence[str]) -> list[list[bytes]]:
    level = [_leaf(h) for h in hashes]
    levels = [level]
    while len(level) > 1:
        # An odd node is carried up unchanged (RFC 6962 splits differently; this is simpler and documented).
        level = [_node(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def merkle_root(hashes: Sequence[str]) -> str:
    if not hashes:
        return GENESIS
    return _levels(hashes)[-1][0].hex()


def merkle_proof(hashes: Sequence[str], index: int) -> list[dict[str, str]]:
    """The sibling hashes from leaf ``index`` up to the root."""
    proof = []
    for level in _levels(hashes)[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append({"side": "L" if sibling < index else "R", "hash": level[sibling].hex()})
        index //= 2
    return proof


def verify_proof(entry_hash_hex: str, proof: Sequence[dict[str, str]], root: str) -> bool:
    node = _leaf(entry_hash_hex)
    for step in proof:
        sibling = bytes.fromhex(step["hash"])
        node = _node(sibling, node) if step["side"] == "L" else _node(node, sibling)
    return node.hex() == root


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: entries (from_seq, to_seq] have this Merkle root and the chain's head is this."""

    brand: str
    from_seq: int
    to_seq: int
    merkle_root: str
    head_hash: str
    signed_at: str
    signature: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"brand": self.brand, "from_seq": self.from_seq, "to_seq": self.to_seq,
                "merkle_root": self.merkle_root, "head_hash": self.head_hash, "signed_at": self.signed_at,
                "signature": self.signature}


def checkpoint_message(cp: Checkpoint) -> bytes:
    """The bytes a brand signs for a checkpoint."""
    return canonical({"format": "fairdesk-checkpoint/1", "brand": cp.brand, "from_seq": cp.from_seq,
                      "to_seq": cp.to_seq, "merkle_root": cp.merkle_root, "head_hash": cp.head_hash,
                      "signed_at": cp.signed_at})


@dataclass(frozen=True)
class Problem:
    """Where the log stops being trustworthy, and how."""

    kind: str  # edited | deleted | reordered | truncated | checkpoint
    seq: int
    detail: str


def verify_chain(entries: Sequence[Entry], head_seq: int, checkpoints: Sequence[Checkpoint] = ()) -> list[Problem]:
    """Check a brand's whole log; every problem is located at the entry where it starts."""
    problems: list[Problem] = []
    by_hash = {e.hash: e for e in entries}
    expected_prev, expected_seq = GENESIS, 1
    for e in entries:
        linked = by_hash.get(e.prev_hash)
        origin = 1 if e.prev_hash == GENESIS else (linked.seq + 1 if linked else None)
        if entry_hash(e.prev_hash, e.content()) != e.hash:
            moved = origin is not None and origin != e.seq and \
                entry_hash(e.prev_hash, e.content() | {"seq": origin}) == e.hash
            problems.append(Problem("reordered", e.seq, f"entry {origin} was moved to position {e.seq}") if moved
                            else Problem("edited", e.seq, f"entry {e.seq}'s content does not match its hash"))
        elif e.seq > expected_seq and e.prev_hash != expected_prev and linked is None:
            problems.append(Problem("deleted", expected_seq, f"entries {expected_seq}–{e.seq - 1} are missing"))
        elif e.prev_hash != expected_prev:
            problems.append(Problem("reordered", e.seq, f"entry {e.seq} follows entry {linked.seq} in the chain")
                            if linked else Problem("edited", e.seq, f"entry {e.seq} does not follow entry "
                                                                      f"{e.seq - 1}"))
        expected_prev, expected_seq = e.hash, e.seq + 1
    last = entries[-1].seq if entries else 0
    newest_claim = max([head_seq, *(cp.to_seq for cp in checkpoints)])
    if newest_claim > last:
        problems.append(Problem("truncated", last + 1, f"the log ends at {last} but {newest_claim} entries "
                                                       "were recorded"))
    seqs = {e.seq: e for e in entries}
    for cp in checkpoints:
        covered = [seqs[s].hash for s in range(cp.from_seq + 1, cp.to_seq + 1) if s in seqs]
        head = seqs.get(cp.to_seq)
        if len(covered) == cp.to_seq - cp.from_seq and (merkle_root(covered) != cp.merkle_root
                                                        or head is None or head.hash != cp.head_hash):
            problems.append(Problem("checkpoint", cp.to_seq,
                                    f"entries {cp.from_seq + 1}–{cp.to_seq} differ from the signed checkpoint"))
    return sorted(problems, key=lambda p: (p.seq, p.kind))
