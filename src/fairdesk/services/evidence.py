"""Evidence: record events in the brand's chain, sign checkpoints, verify, export and verify bundles."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fairdesk.domain.errors import InvalidInput, NotFound
from fairdesk.domain.evidence import (
    Checkpoint,
    Entry,
    EvidenceKind,
    Problem,
    checkpoint_message,
    entry_hash,
    merkle_proof,
    merkle_root,
    verify_chain,
    verify_proof,
)
from fairdesk.domain.people import Actor, Role
from fairdesk.services import signing
from fairdesk.services.access import access_customer, require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = ["BUNDLE_FORMAT", "checkpoint", "display_names", "export_bundle",
           "public_key", "record", "verify_brand", "verify_bundle"]

BUNDLE_FORMAT = "fairdesk-evidence-bundle/1"


def record(uow: UnitOfWork, brand_id: int, kind: EvidenceKind, subject: str, customer_id: int | None,
           payload: dict[str, Any], clock: Clock) -> Entry:
    """Append an event to the brand's chain, inside the caller's transaction (so it commits with the change). The
    kind is one the log knows (``EvidenceKind``): an unknown one is a bug, refused before anything is written."""
    return uow.evidence.append(brand_id, EvidenceKind(kind).value, subject, customer_id, payload, clock.now())


def _brand(uow: UnitOfWork, code: str) -> Any:
    brand = uow.brands.by_code(code)
    if brand is None:
        raise NotFound("brand.not_found", f"no brand {code!r}")
    return brand


def _key(uow: UnitOfWork, brand_id: int, clock: Clock) -> tuple[str, str]:
    key = uow.evidence.key(brand_id)
    if key is None:
        key = signing.new_key()
        uow.evidence.save_key(brand_id, key[0], key[1], clock.now())
    return key


def public_key(uows: UowFactory, brand_code: str) -> str | None:
    """The brand's published checkpoint key (hex), for anyone to pin."""
    with uows(readonly=True) as uow:
        key = uow.evidence.key(_brand(uow, brand_code).id)
    return key[1] if key else None


def checkpoint(uows: UowFactory, clock: Clock, brand_code: str) -> Checkpoint | None:
    """Sign the entries since the last checkpoint; None when there are none."""
    with uows() as uow:
        brand = _brand(uow, brand_code)
        done = uow.evidence.checkpoints(brand.id, brand.code)
        since = done[-1].to_seq if done else 0
        head_seq, head_hash = uow.evidence.head(brand.id)
        if head_seq <= since:
            return None
        entries = uow.evidence.entries(brand.id, after=since, upto=head_seq)
        private, _ = _key(uow, brand.id, clock)
        cp = Checkpoint(brand.code, since, head_seq, merkle_root([e.hash for e in entries]), head_hash,
                        clock.now().astimezone(UTC).isoformat())
        cp = Checkpoint(**{**cp.__dict__, "signature": signing.sign(private, checkpoint_message(cp))})
        uow.evidence.add_checkpoint(brand.id, cp)
        uow.commit()
    return cp


def verify_brand(uows: UowFactory, brand_code: str) -> list[Problem]:
    """Check the brand's whole chain and every checkpoint signature; each problem says where it is."""
    with uows(readonly=True) as uow:
        brand = _brand(uow, brand_code)
        entries = uow.evidence.entries(brand.id)
        head_seq, _ = uow.evidence.head(brand.id)
        cps = uow.evidence.checkpoints(brand.id, brand.code)
        key = uow.evidence.key(brand.id)
    problems = verify_chain(entries, head_seq, cps)
    for cp in cps:
        if key is None or not signing.verify(key[1], checkpoint_message(cp), cp.signature):
            problems.append(Problem("checkpoint", cp.to_seq, f"checkpoint {cp.from_seq}–{cp.to_seq} has a signature "
                                                             "the brand's key did not make"))
    return sorted(problems, key=lambda p: (p.seq, p.kind))


def export_bundle(uows: UowFactory, clock: Clock, actor: Actor, customer_id: int) -> dict[str, Any]:
    """Everything about a customer in the log, with the proofs to verify it offline. Customers export their
    own; managers and auditors export one for a case."""
    if not actor.is_customer:
        require_role(actor, Role.MANAGER, Role.AUDITOR, Role.AGENT, what="export evidence")
    with uows(readonly=True) as uow:
        access_customer(uow, actor, customer_id)
        brand = uow.brands.get(actor.brand_id)
    checkpoint(uows, clock, brand.code)  # cover everything up to now
    with uows(readonly=True) as uow:
        mine = uow.evidence.entries(brand.id, customer_id=customer_id)
        cps = uow.evidence.checkpoints(brand.id, brand.code)
        key = uow.evidence.key(brand.id)
        out_entries = []
        used: dict[int, int] = {}
        for e in mine:
            ci = next(i for i, cp in enumerate(cps) if cp.from_seq < e.seq <= cp.to_seq)
            cp = cps[ci]
            hashes = [x.hash for x in uow.evidence.entries(brand.id, after=cp.from_seq, upto=cp.to_seq)]
            used[ci] = len(used) if ci not in used else used[ci]
            out_entries.append(e.__dict__ | {"checkpoint": used[ci],
                                             "proof": merkle_proof(hashes, e.seq - cp.from_seq - 1)})
    return {"format": BUNDLE_FORMAT, "brand": {"code": brand.code, "name": brand.name},
            "customer_id": customer_id, "generated_at": clock.now().astimezone(UTC).isoformat(),
            "public_key": key[1] if key else None,
            "checkpoints": [cps[i].as_dict() for i in sorted(used, key=used.get)],  # type: ignore[arg-type]
            "entries": out_entries}


def display_names(uows: UowFactory, actor: Actor, bundle: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The names people know for the codes a bundle's entries hold (plans, parts), for its printed copy."""
    plans: set[str] = set()
    skus: set[str] = set()
    for e in bundle["entries"]:
        payload = e["payload"]
        plans.update(str(payload[k]) for k in ("plan", "from", "to") if payload.get(k) and
                     e["kind"].startswith("subscription."))
        skus.update(str(p["sku"]) for p in payload.get("parts") or () if isinstance(p, dict) and p.get("sku"))
    with uows(readonly=True) as uow:
        catalogue = uow.plans.catalogue(actor.brand_id) if plans else None
        parts = uow.stock.parts(actor.brand_id, skus) if skus else []
    return {"plans": {code: p.name for code, p in (catalogue.plans.items() if catalogue else ()) if code in plans},
            "parts": {p.sku: p.name for p in parts}}


def verify_bundle(bundle: Any, pinned_key: str | None = None) -> list[str]:
    """Offline: every entry's hash, its Merkle proof, its checkpoint's signature (against the pinned key when
    given), and the entries' order. Returns what is wrong; an empty list means the bundle is intact."""
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidInput("evidence.not_a_bundle", f"not a {BUNDLE_FORMAT} file")
    problems: list[str] = []
    key = bundle.get("public_key") or ""
    if pinned_key and key != pinned_key:
        problems.append("the bundle is signed with another key than the brand's published one")
    try:
        cps = [Checkpoint(**cp) for cp in bundle["checkpoints"]]
        for i, cp in enumerate(cps):
            if not signing.verify(key, checkpoint_message(cp), cp.signature):
                problems.append(f"checkpoint {i} ({cp.from_seq}–{cp.to_seq}): the signature does not verify")
        last = 0
        for raw in bundle["entries"]:
            e = Entry(raw["seq"], raw["at"], raw["kind"], raw["subject"], raw["customer_id"], raw["payload"],
                      raw["prev_hash"], raw["hash"])
            if e.seq <= last:
                problems.append(f"entry {e.seq}: out of order (after {last})")
            last = max(last, e.seq)
            if entry_hash(e.prev_hash, e.content()) != e.hash:
                problems.append(f"entry {e.seq}: its content does not match its hash")
            cp = cps[raw["checkpoint"]]
            if not cp.from_seq < e.seq <= cp.to_seq or not verify_proof(e.hash, raw["proof"], cp.merkle_root):
                problems.append(f"entry {e.seq}: not part of its signed checkpoint")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        problems.append(f"the bundle is incomplete or malformed: {type(exc).__name__}: {exc}")
    return problems
