"""The HTTP API under /api/v1: thin routes that parse, call a service and shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from fairdesk.adapters import killbill
from fairdesk.domain import clauses
from fairdesk.domain.channels import ChannelKind
from fairdesk.domain.contact import Conversation
from fairdesk.domain.errors import InvalidInput, NotFound
from fairdesk.domain.network import Outlet
from fairdesk.domain.people import Role
from fairdesk.domain.plans import Catalogue, Subscription
from fairdesk.domain.tickets import Category, Channel, Priority, Status, TicketFilter
from fairdesk.entrypoints.api.deps import FILE_BODY, ActorDep, AppDep, IdPath, file_body
from fairdesk.entrypoints.api.problems import PROBLEM_RESPONSES, request_language
from fairdesk.entrypoints.api.schemas import (
    CommentIn,
    CustomerIn,
    CustomerOut,
    EventOut,
    In,
    Page,
    ProductIn,
    TicketIn,
    TicketOut,
    TokenIn,
    TransitionIn,
    UnitIn,
    UnitOut,
    decode_cursor,
    encode_cursor,
)
from fairdesk.reference.clause_rules import default_rules
from fairdesk.reference.regions_data import default_resolver
from fairdesk.services import channels as channels_svc
from fairdesk.services import contact as contact_svc
from fairdesk.services import customers as customer_svc
from fairdesk.services import evidence as evidence_svc
from fairdesk.services import identity
from fairdesk.services import network as network_svc
from fairdesk.services import plans as plans_svc
from fairdesk.services import sla as sla_svc
from fairdesk.services import tickets as ticket_svc
from fairdesk.services.access import (
    access_conversation,
    access_customer,
    access_subscription,
    access_unit,
    require_role,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=ticket_svc.MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=64)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


@router.post("/auth/token", tags=["auth"], status_code=status.HTTP_201_CREATED)
def create_token(body: TokenIn, app: AppDep) -> dict[str, str]:
    """Exchange a username and password for an API token (shown once)."""
    user = identity.authenticate(app.uows, body.username, body.password, app.clock)
    return {"token": identity.issue_token(app.uows(), app.clock, user.username, body.name),
            "token_type": "bearer"}


@router.delete("/auth/token", tags=["auth"], status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(actor: ActorDep, app: AppDep, authorization: Annotated[str, Header()]) -> Response:
    """Revoke the token this request carries."""
    identity.revoke_token(app.uows(), app.clock, authorization.partition(" ")[2].strip())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", tags=["auth"])
def me(actor: ActorDep) -> dict[str, object]:
    return {"brand_id": actor.brand_id, "role": actor.role.value, "user_id": actor.user_id,
            "customer_id": actor.customer_id}


# --- regions ----------------------------------------------------------------------------------------------

@router.get("/regions/resolve", tags=["regions"])
def resolve_region(q: Annotated[str, Query(max_length=2000, description="An address or place name")]
                   ) -> dict[str, object]:
    """The deepest official division the text proves (adcode, chain, confidence), or candidates. Public."""
    return default_resolver().resolve(q).as_dict()


# --- network ----------------------------------------------------------------------------------------------

class OutletIn(In):
    code: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    address: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    hotline: Annotated[str, StringConstraints(max_length=32)] = ""
    opening_hours: Annotated[str, StringConstraints(max_length=200)] = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None


class AreasIn(In):
    text: Annotated[str, StringConstraints(min_length=1, max_length=500_000)]
    dry_run: bool = False


def _outlet(o: Outlet) -> dict[str, object]:
    return {"id": o.id, "code": o.code, "name": o.name, "address": o.address, "adcode": o.adcode,
            "hotline": o.hotline, "opening_hours": o.opening_hours, "latitude": o.latitude,
            "longitude": o.longitude, "active": o.active}


@router.post("/network/outlets", tags=["network"], status_code=status.HTTP_201_CREATED)
def create_outlet(body: OutletIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    outlet = network_svc.create_outlet(network_svc.CreateOutlet(actor, **body.model_dump()), app.uows(),
                                       app.clock, default_resolver())
    return _outlet(outlet)


@router.get("/network/outlets", tags=["network"])
def list_outlets(actor: ActorDep, app: AppDep) -> list[dict[str, object]]:
    with app.uows(readonly=True) as uow:
        return [_outlet(o) for o in uow.outlets.for_brand(actor.brand_id)]


@router.post("/network/outlets/{code}/areas", tags=["network"])
def import_areas(code: Annotated[str, Path(max_length=32)], body: AreasIn, actor: ActorDep,
                 app: AppDep) -> dict[str, object]:
    """Import a published coverage list (names separated by 、 or new lines); the report lists every name."""
    report = network_svc.import_areas(actor, code, body.text, app.uows(), default_resolver(), dry_run=body.dry_run)
    return report.as_dict()


@router.get("/network/route", tags=["network"])
def route(actor: ActorDep, app: AppDep, address: Annotated[str, Query(min_length=1, max_length=2000)],
          lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
          lon: Annotated[float | None, Query(ge=-180, le=180)] = None) -> dict[str, object]:
    """The outlets that serve an address, best first (most specific coverage, then distance, then load)."""
    where = (lat, lon) if lat is not None and lon is not None else None
    found = network_svc.route_address(app.uows(readonly=True), actor, address, default_resolver(), where)
    return {"resolution": found.resolution.as_dict(),
            "outlets": [_outlet(o) | {"matched_adcode": r.matched_code, "specificity": r.specificity,
                                      "distance_km": r.distance_km, "load": r.load} for r, o in found.outlets]}


@router.get("/network/gaps", tags=["network"])
def gaps(actor: ActorDep, app: AppDep,
         province: Annotated[str | None, Query(max_length=50)] = None) -> list[dict[str, object]]:
    """Per province: county-level units covered, partly covered and not covered by any outlet."""
    report = network_svc.network_gaps(app.uows(readonly=True), actor, default_resolver(), province)
    return [{"province_code": g.province_code, "province": g.province, "counties": g.counties,
             "covered": g.covered, "partial": [{"adcode": c, "name": n} for c, n in g.partial],
             "uncovered": [{"adcode": c, "name": n} for c, n in g.uncovered]} for g in report]


# --- plans and subscriptions --------------------------------------------------------------------------------

class CatalogueIn(In):
    killbill_xml: Annotated[str, StringConstraints(min_length=1, max_length=5_000_000)]
    normalise: bool = False


class SubscribeIn(In):
    customer_id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    plan: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    payment_method: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    channel: Annotated[str, StringConstraints(max_length=16)] = "api"
    auto_renew: bool = False
    terms_version: Annotated[str, StringConstraints(max_length=32)] | None = None


class ChangeIn(In):
    to_plan: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None
    preview: bool = False
    channel: Annotated[str, StringConstraints(max_length=16)] = "api"


def _subscription(sub: Subscription, tz: ZoneInfo) -> dict[str, object]:
    return {"id": sub.id, "customer_id": sub.customer_id, "plan": sub.plan_code, "status": sub.status.value,
            "period_start": sub.period_start.astimezone(tz).isoformat(),
            "period_end": sub.period_end.astimezone(tz).isoformat(), "paid_amount": f"{sub.paid_amount:.2f}",
            "payment_method": sub.payment_method, "auto_renew": sub.auto_renew,
            "pending_plan": sub.pending_plan_code, "cancel_at_period_end": sub.cancel_at_period_end,
            "ended_at": sub.ended_at.astimezone(tz).isoformat() if sub.ended_at else None}


@router.get("/plans", tags=["plans"])
def list_plans(actor: ActorDep, app: AppDep) -> dict[str, object]:
    """The brand's plan families (with their one change rule) and plans."""
    with app.uows(readonly=True) as uow:
        cat = uow.plans.catalogue(actor.brand_id)
    return {"families": [{"code": f.code, "name": f.name, "change_policy": f.policy.value} for f in
                         cat.families.values()],
            "plans": [{"code": p.code, "family": p.family, "name": p.name, "price": f"{p.price:.2f}",
                       "period": p.period.value, "features": list(p.features), "retired": p.retired,
                       "terms_version": p.terms_version} for p in cat.plans.values()]}


@router.post("/plans/import", tags=["plans"])
def import_plans(body: CatalogueIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    """Import a Kill Bill catalogue; refused when it treats directions differently unless ``normalise``."""
    conv = killbill.to_families(killbill.parse(body.killbill_xml.encode()), normalise=body.normalise)
    families, plans = plans_svc.import_catalogue(actor, Catalogue(conv.families, conv.plans), app.uows())
    return {"families": families, "plans": plans, "normalised": conv.changes}


@router.post("/subscriptions", tags=["plans"], status_code=status.HTTP_201_CREATED)
def create_subscription(body: SubscribeIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    sub = plans_svc.subscribe(plans_svc.Subscribe(actor, body.customer_id, body.plan, body.payment_method,
                                                  body.channel, body.auto_renew, body.terms_version),
                              app.uows(), app.clock)
    return _subscription(sub, app.clock.tz)


@router.get("/subscriptions/{subscription_id}", tags=["plans"])
def get_subscription(subscription_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    with app.uows(readonly=True) as uow:
        sub = access_subscription(uow, actor, subscription_id)
        ledger = [{"kind": r.kind, "amount": f"{r.amount:.2f}", "payment_method": r.payment_method,
                   "description": r.description, "at": r.at.astimezone(app.clock.tz).isoformat()}
                  for r in uow.plans.ledger(sub.id)]
    return _subscription(sub, app.clock.tz) | {"ledger": ledger}


@router.post("/subscriptions/{subscription_id}/changes", tags=["plans"])
def change_subscription(subscription_id: IdPath, body: ChangeIn, actor: ActorDep, app: AppDep,
                        response: Response) -> dict[str, object]:
    """The one operation for every change: ``to_plan`` a plan (up or down) or null (cancel); ``preview``
    first shows the effective time and every line, then the same call without preview confirms it."""
    result = plans_svc.change_subscription(plans_svc.ChangeSubscription(
        actor, subscription_id, body.to_plan, body.preview, body.channel), app.uows, app.clock)
    q = result.quote
    out: dict[str, object] = {
        "kind": q.kind.value, "policy": q.policy.value, "preview": body.preview,
        "submitted_at": q.submitted_at.astimezone(app.clock.tz).isoformat(),
        "effective_at": q.effective_at.astimezone(app.clock.tz).isoformat(),
        "lines": [{"kind": ln.kind, "description": ln.description, "amount": f"{ln.amount:.2f}"} for ln in q.lines],
        "net": f"{q.net:.2f}", "from_plan": result.from_plan.code,
        "to_plan": result.to_plan.code if result.to_plan else None,
    }
    if body.preview:
        # The offer sits beside the change, never instead of it: confirming the change declines it.
        out["save_offer"] = result.save_offer
        out["continue"] = {"method": "POST", "href": f"/api/v1/subscriptions/{subscription_id}/changes",
                           "body": {"to_plan": body.to_plan, "preview": False, "channel": body.channel}}
        return out
    response.status_code = status.HTTP_201_CREATED
    return out | {"change_id": result.change_id, "receipt": result.receipt}


@router.post("/subscriptions/{subscription_id}/resume", tags=["plans"])
def resume_subscription(subscription_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    """Withdraw a change or cancellation scheduled for the end of the period."""
    return _subscription(plans_svc.resume_subscription(actor, subscription_id, app.uows(), app.clock), app.clock.tz)


@router.get("/subscriptions/{subscription_id}/changes/{change_id}/receipt", tags=["plans"])
def change_receipt(subscription_id: IdPath, change_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    return plans_svc.receipt(app.uows(readonly=True), actor, subscription_id, change_id, app.clock)


# --- official channels and contract terms --------------------------------------------------------------------

class ChannelIn(In):
    kind: ChannelKind
    value: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    label: Annotated[str, StringConstraints(max_length=100)] = ""


class TextIn(In):
    text: Annotated[str, StringConstraints(max_length=1_000_000)]


@router.post("/channels", tags=["channels"], status_code=status.HTTP_201_CREATED)
def register_channel(body: ChannelIn, actor: ActorDep, app: AppDep) -> dict[str, str]:
    """Register one of the brand's official phone numbers, websites or accounts."""
    normalized = channels_svc.register_channel(actor, body.kind, body.value, body.label, app.uows(), app.clock)
    return {"kind": body.kind.value, "value": normalized, "label": body.label}


@router.get("/channels", tags=["channels"])
def list_channels(actor: ActorDep, app: AppDep) -> list[dict[str, str]]:
    with app.uows(readonly=True) as uow:
        rows = uow.channels.of_brand(actor.brand_id)
    return [{"kind": r.kind.value, "value": r.value, "label": r.label} for r in rows]


@router.get("/channels/check", tags=["channels"])
def check_channel(value: Annotated[str, Query(min_length=1, max_length=200)], app: AppDep) -> dict[str, object]:
    """Public: is this number or address an official service channel, and of which brand?"""
    r = channels_svc.check_channel(value, app.uows(readonly=True))
    return {"value": r.value, "normalized": r.normalized, "kind": r.kind.value if r.kind else None,
            "status": r.status.value, "brand": r.brand}


@router.post("/channels/scan", tags=["channels"])
def scan_channels(body: TextIn, actor: ActorDep, app: AppDep) -> list[dict[str, str | None]]:
    """Every phone number in a text or HTML page, marked official, unknown or impostor."""
    return channels_svc.scan_page(body.text, app.uows(readonly=True))


@router.post("/clauses/check", tags=["clauses"])
def check_clauses(body: TextIn) -> dict[str, object]:
    """Public: the clauses of a contract or terms text that are known to be unfair, with basis and a fair rewrite."""
    return {"findings": [f.as_dict() for f in clauses.check(body.text, default_rules())]}


# --- evidence -------------------------------------------------------------------------------------------------

@router.get("/evidence/keys/{brand_code}", tags=["evidence"])
def evidence_key(brand_code: Annotated[str, Path(max_length=32)], app: AppDep) -> dict[str, object]:
    """Public: the brand's checkpoint key, to pin when verifying a bundle."""
    return {"brand": brand_code, "algorithm": "Ed25519", "public_key": evidence_svc.public_key(app.uows, brand_code)}


@router.get("/evidence/bundle", tags=["evidence"])
def evidence_bundle(customer_id: Annotated[int, Query(ge=1, le=2**63 - 1)], actor: ActorDep,
                    app: AppDep) -> dict[str, object]:
    """Everything about a customer in the log, with proofs (a customer exports their own)."""
    bundle = evidence_svc.export_bundle(app.uows, app.clock, actor, customer_id)
    customer_svc.record_reads(app.uows, actor, [customer_id], "evidence.bundle", app.clock)
    return bundle


@router.get("/evidence/bundle.pdf", tags=["evidence"], response_class=Response)
def evidence_bundle_pdf(customer_id: Annotated[int, Query(ge=1, le=2**63 - 1)], request: Request, actor: ActorDep,
                        app: AppDep) -> Response:
    from fairdesk.adapters.pdf import bundle_pdf

    bundle = evidence_svc.export_bundle(app.uows, app.clock, actor, customer_id)
    customer_svc.record_reads(app.uows, actor, [customer_id], "evidence.bundle", app.clock)
    pdf = bundle_pdf(bundle, request_language(request), evidence_svc.display_names(app.uows, actor, bundle))
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="evidence-{customer_id}.pdf"'})


@router.post("/evidence/verify-bundle", tags=["evidence"])
def evidence_verify_bundle(bundle: dict[str, Any], key: Annotated[str | None, Query(max_length=64)] = None
                           ) -> dict[str, object]:
    """Public: verify a bundle (pass ``key``, the brand's published key, to rule out re-signing)."""
    problems = evidence_svc.verify_bundle(bundle, key)
    return {"intact": not problems, "problems": problems}


# --- contact: conversations, routing, fairness -----------------------------------------------------------------

class ConversationIn(In):
    channel: Annotated[str, StringConstraints(max_length=16)]
    language: Annotated[str, StringConstraints(max_length=8)] = "zh-CN"
    customer_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    age: Annotated[int, Field(ge=0, le=130)] | None = None


class MessageIn(In):
    text: Annotated[str, StringConstraints(max_length=10_000)]


class AgentIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    languages: Annotated[list[Annotated[str, StringConstraints(max_length=8)]], Field(min_length=1, max_length=5)]
    capacity: Annotated[int, Field(ge=1, le=20)] = 3
    skills: Annotated[list[Annotated[str, StringConstraints(max_length=16)]],
                      Field(max_length=4, default_factory=lambda: ["general"])]


class LinkIn(In):
    ticket_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    subscription_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


def _conversation(c: Conversation, tz: ZoneInfo) -> dict[str, object]:
    def local(v: datetime | None) -> str | None:
        return v.astimezone(tz).isoformat() if v else None

    return {"id": c.id, "channel": c.channel, "language": c.language, "status": c.status.value, "intent": c.intent,
            "bot_steps": c.bot_steps, "vulnerable": c.vulnerable, "opened_at": local(c.opened_at),
            "handed_at": local(c.handed_at), "assigned_at": local(c.assigned_at), "agent_id": c.agent_id,
            "first_reply_at": local(c.first_reply_at)}


@router.post("/conversations", tags=["contact"], status_code=status.HTTP_201_CREATED)
def open_conversation(body: ConversationIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    conv = contact_svc.open_conversation(contact_svc.OpenConversation(actor, body.channel, body.language,
                                                                      body.customer_id, body.age),
                                         app.uows(), app.clock)
    return _conversation(conv, app.clock.tz)


@router.get("/conversations/{conversation_id}", tags=["contact"])
def get_conversation(conversation_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    with app.uows(readonly=True) as uow:
        conv = access_conversation(uow, actor, conversation_id)
        messages = [{"sender": m.sender, "text": m.text, "intent": m.intent,
                     "at": m.at.astimezone(app.clock.tz).isoformat()} for m in uow.contact.messages(conv.id)]
    return _conversation(conv, app.clock.tz) | {"messages": messages}


@router.post("/conversations/{conversation_id}/messages", tags=["contact"])
def post_message(conversation_id: IdPath, body: MessageIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    """A customer's message: its intent, the bot's answer (null once a person has or gets the conversation)."""
    conv, intent, reply = contact_svc.post_message(actor, conversation_id, body.text, app.uows, app.clock)
    return {"intent": intent.value, "bot_reply": reply, "conversation": _conversation(conv, app.clock.tz)}


@router.post("/conversations/{conversation_id}/human", tags=["contact"])
def talk_to_person(conversation_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    """The always-visible "talk to a person" control."""
    return _conversation(contact_svc.talk_to_person(actor, conversation_id, app.uows, app.clock), app.clock.tz)


@router.post("/conversations/{conversation_id}/close", tags=["contact"])
def close_conversation(conversation_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    conv = contact_svc.close_conversation(actor, conversation_id, app.uows(), app.clock)
    return _conversation(conv, app.clock.tz)


@router.post("/agents", tags=["contact"], status_code=status.HTTP_201_CREATED)
def add_agent(body: AgentIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    contact_svc.add_agent(actor, body.username, body.languages, body.capacity, app.uows(), body.skills)
    return {"username": body.username, "languages": body.languages, "capacity": body.capacity, "skills": body.skills}


@router.get("/conversation-queue", tags=["contact"])
def conversation_queue(actor: ActorDep, app: AppDep) -> list[dict[str, object]]:
    """Who waits for a person, in the order they will be served, and who has waited too long."""
    return contact_svc.queue(actor, app.uows(readonly=True), app.clock)


@router.post("/conversations/{conversation_id}/link", tags=["contact"])
def link_conversation(conversation_id: IdPath, body: LinkIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    conv = contact_svc.link_conversation(actor, conversation_id, app.uows(), ticket_id=body.ticket_id,
                                         subscription_id=body.subscription_id)
    return _conversation(conv, app.clock.tz) | {"ticket_id": conv.ticket_id, "subscription_id": conv.subscription_id}


@router.get("/routing-policy", tags=["contact"])
def get_routing_policy(actor: ActorDep, app: AppDep) -> dict[str, object]:
    with app.uows(readonly=True) as uow:
        return contact_svc.policy_of(uow, actor.brand_id).as_dict()


@router.put("/routing-policy", tags=["contact"])
def put_routing_policy(body: dict[str, Any], actor: ActorDep, app: AppDep) -> dict[str, object]:
    """Replace the routing policy; refused if it would rank by value or by what is asked for."""
    return contact_svc.set_policy(actor, body, app.uows(), app.clock).as_dict()


@router.get("/fairness", tags=["contact"])
def fairness(actor: ActorDep, app: AppDep, from_: Annotated[datetime, Query(alias="from")],
             to: datetime) -> dict[str, object]:
    """Time to a person by intent, and whether downgrades/cancellations wait longer than upgrades."""
    if from_.tzinfo is None or to.tzinfo is None:
        raise InvalidInput("input.invalid", "give times with a UTC offset")
    return contact_svc.fairness_report(app.uows, actor, from_, to, app.clock.now())


@router.get("/transparency/{brand_code}", tags=["contact"])
def transparency(brand_code: Annotated[str, Path(max_length=32)], app: AppDep) -> dict[str, object]:
    """Public: how this brand routes people to people, live."""
    return contact_svc.transparency(app.uows, app.clock, brand_code)


# --- customers, products, units -------------------------------------------------------------------

@router.post("/customers", tags=["customers"], status_code=status.HTTP_201_CREATED)
def create_customer(body: CustomerIn, actor: ActorDep, app: AppDep) -> CustomerOut:
    customer = customer_svc.create_customer(
        customer_svc.CreateCustomer(actor, body.name, body.phones, body.addresses, body.email, body.language),
        app.uows(), app.clock)
    return CustomerOut.of(customer, app.clock.tz)


@router.get("/customers", tags=["customers"])
def list_customers(actor: ActorDep, app: AppDep, phone: Annotated[str | None, Query(max_length=32)] = None,
                   cursor: Cursor = None, limit: Limit = 50) -> Page[CustomerOut]:
    """Caller lookup by ``phone``, or the brand's customers, newest first. Contact details are masked unless
    the caller handles the customer (the number looked up is shown as given); every staff read is logged."""
    if phone is not None:
        found = customer_svc.find_customers_by_phone(app.uows(readonly=True), actor, phone)
        given = customer_svc.normalize_phone(phone)
        with app.uows(readonly=True) as uow:
            full = customer_svc.contacts_visible(uow, actor, [c.id for c in found])
        items = [CustomerOut.of(c, app.clock.tz, full=c.id in full, known_phone=given) for c in found]
        customer_svc.record_reads(app.uows, actor, [c.id for c in found], "customer.lookup", app.clock)
        return Page(items=items, next_cursor=None)
    require_role(actor, Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.AUDITOR, what="list customers")
    with app.uows(readonly=True) as uow:
        rows = uow.customers.page(actor.brand_id, before_id=decode_cursor(cursor), limit=limit)
        full = customer_svc.contacts_visible(uow, actor, [c.id for c in rows])
        items = [CustomerOut.of(c, app.clock.tz, full=c.id in full) for c in rows]
    customer_svc.record_reads(app.uows, actor, [c.id for c in rows], "customer.list", app.clock)
    return Page(items=items, next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None)


@router.get("/customers/{customer_id}", tags=["customers"])
def get_customer(customer_id: IdPath, actor: ActorDep, app: AppDep) -> CustomerOut:
    """A customer; phone numbers and addresses in full only for them and the staff handling them."""
    with app.uows(readonly=True) as uow:
        c = access_customer(uow, actor, customer_id)
        out = CustomerOut.of(c, app.clock.tz, full=bool(customer_svc.contacts_visible(uow, actor, [customer_id])))
    customer_svc.record_reads(app.uows, actor, [customer_id], "customer", app.clock)
    return out


@router.get("/customers/{customer_id}/access-log", tags=["customers"])
def customer_access_log(customer_id: IdPath, actor: ActorDep, app: AppDep) -> list[dict[str, str]]:
    """Who on the staff read this customer's data, and when (the customer, managers, auditors)."""
    return customer_svc.reads_of(app.uows, actor, customer_id, app.clock)


@router.post("/products", tags=["customers"], status_code=status.HTTP_201_CREATED)
def create_product(body: ProductIn, actor: ActorDep, app: AppDep) -> dict[str, object]:
    p = customer_svc.create_product(
        customer_svc.CreateProduct(actor, body.model, body.name, body.product_line), app.uows())
    return {"id": p.id, "model": p.model, "name": p.name, "product_line": p.product_line}


@router.get("/products", tags=["customers"])
def list_products(actor: ActorDep, app: AppDep) -> list[dict[str, object]]:
    with app.uows(readonly=True) as uow:
        return [{"id": p.id, "model": p.model, "name": p.name, "product_line": p.product_line}
                for p in uow.products.for_brand(actor.brand_id)]


@router.post("/customers/{customer_id}/units", tags=["customers"], status_code=status.HTTP_201_CREATED)
def register_unit(customer_id: IdPath, body: UnitIn, actor: ActorDep, app: AppDep) -> UnitOut:
    unit = customer_svc.register_unit(customer_svc.RegisterUnit(
        actor, customer_id, body.product_model, body.serial_number, body.purchase_date, body.warranty_end),
        app.uows())
    return UnitOut.of(unit)


@router.get("/customers/{customer_id}/units", tags=["customers"])
def list_units(customer_id: IdPath, actor: ActorDep, app: AppDep) -> list[UnitOut]:
    with app.uows(readonly=True) as uow:
        customer = access_customer(uow, actor, customer_id)
        return [UnitOut.of(u) for u in uow.units.of_customer(actor.brand_id, customer.id)]


@router.get("/units/{unit_id}", tags=["customers"])
def get_unit(unit_id: IdPath, actor: ActorDep, app: AppDep) -> UnitOut:
    with app.uows(readonly=True) as uow:
        return UnitOut.of(access_unit(uow, actor, unit_id))


# --- tickets ----------------------------------------------------------------------------------------

@router.post("/tickets", tags=["tickets"], status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "Replayed: this Idempotency-Key already created the ticket"}})
def create_ticket(body: TicketIn, actor: ActorDep, app: AppDep, response: Response,
                  idempotency_key: IdempotencyKey = None) -> TicketOut:
    """Open a service request; its number is in the answer. Send an ``Idempotency-Key`` to retry safely."""
    cmd = ticket_svc.OpenTicket(actor=actor, customer_id=body.customer_id, channel=body.channel,
                                category=body.category, subject=body.subject, description=body.description,
                                priority=body.priority, unit_id=body.unit_id, address_id=body.address_id)
    ticket, replayed = ticket_svc.open_ticket(cmd, app.uows, app.clock, idempotency_key)
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return TicketOut.of(ticket, actor, app.clock.tz)


@router.get("/tickets", tags=["tickets"])
def list_tickets(actor: ActorDep, app: AppDep,
                 status_: Annotated[Status | None, Query(alias="status")] = None,
                 category: Category | None = None, priority: Priority | None = None,
                 channel: Channel | None = None,
                 customer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
                 created_from: datetime | None = None, created_to: datetime | None = None,
                 cursor: Cursor = None, limit: Limit = 50) -> Page[TicketOut]:
    """Tickets newest first, filtered; follow ``next_cursor`` for the next page."""
    for name, value in (("created_from", created_from), ("created_to", created_to)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput("input.invalid", f"{name} needs a UTC offset", field=name)
    flt = TicketFilter(status=status_, category=category, priority=priority, channel=channel,
                       customer_id=customer_id, created_from=created_from, created_to=created_to)
    rows = ticket_svc.list_tickets(app.uows(readonly=True), actor, flt, before_id=decode_cursor(cursor),
                                   limit=limit)
    return Page(items=[TicketOut.of(t, actor, app.clock.tz) for t in rows],
                next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None)


@router.get("/tickets/by-number/{number}", tags=["tickets"])
def get_ticket_by_number(number: Annotated[str, Path(max_length=32)], actor: ActorDep,
                         app: AppDep) -> TicketOut:
    with app.uows(readonly=True) as uow:
        ticket = uow.tickets.by_number(actor.brand_id, number)
        if ticket is None or (actor.is_customer and ticket.customer_id != actor.customer_id):
            raise NotFound("ticket.not_found", f"no ticket {number}")
        return TicketOut.of(ticket, actor, app.clock.tz)


@router.get("/tickets/{ticket_id}", tags=["tickets"])
def get_ticket(ticket_id: IdPath, actor: ActorDep, app: AppDep) -> TicketOut:
    return TicketOut.of(ticket_svc.get_ticket(app.uows(readonly=True), actor, ticket_id), actor, app.clock.tz)


@router.post("/tickets/{ticket_id}/attachments", tags=["tickets"], status_code=status.HTTP_201_CREATED,
             openapi_extra=FILE_BODY)
async def add_ticket_attachment(ticket_id: IdPath, request: Request, actor: ActorDep, app: AppDep,
                                filename: Annotated[str, Query(min_length=1, max_length=200)] = "photo",
                                content_type: Annotated[str, Header(max_length=100)] = "") -> dict[str, Any]:
    """A photo of the fault or of the work (JPEG, PNG, WebP) or a PDF, at most 5 MB, as the request body."""
    return await run_in_threadpool(ticket_svc.add_attachment, app.uows, actor, ticket_id, filename, content_type,
                                   await file_body(request, "ticket"), app.clock)


@router.get("/tickets/{ticket_id}/attachments", tags=["tickets"])
def ticket_attachments(ticket_id: IdPath, actor: ActorDep, app: AppDep) -> list[dict[str, Any]]:
    """The request's photos and documents (without their bytes), with their SHA-256."""
    return [a | {"added_at": a["added_at"].astimezone(app.clock.tz).isoformat()}
            for a in ticket_svc.attachments(app.uows(readonly=True), actor, ticket_id)]


@router.get("/tickets/{ticket_id}/attachments/{attachment_id}", tags=["tickets"], response_class=Response)
def ticket_attachment(ticket_id: IdPath, attachment_id: IdPath, actor: ActorDep, app: AppDep) -> Response:
    row = ticket_svc.attachment(app.uows(readonly=True), actor, ticket_id, attachment_id)
    return Response(row.data, media_type=row.content_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}"})


@router.get("/tickets/{ticket_id}/events", tags=["tickets"])
def ticket_events(ticket_id: IdPath, actor: ActorDep, app: AppDep) -> list[EventOut]:
    _, events = ticket_svc.ticket_history(app.uows(readonly=True), actor, ticket_id)
    return [EventOut.of(e, app.clock.tz) for e in events]


@router.get("/tickets/{ticket_id}/sla", tags=["tickets"])
def ticket_sla(ticket_id: IdPath, actor: ActorDep, app: AppDep) -> dict[str, object]:
    """The ticket's deadlines and time left, for staff and for the customer alike."""
    return sla_svc.ticket_clocks(app.uows(readonly=True), actor, ticket_id, app.clock)


@router.post("/tickets/{ticket_id}/transitions", tags=["tickets"])
def transition_ticket(ticket_id: IdPath, body: TransitionIn, actor: ActorDep, app: AppDep) -> TicketOut:
    ticket = ticket_svc.move_ticket(ticket_svc.MoveTicket(actor, ticket_id, body.to, body.note),
                                    app.uows(), app.clock, public_url=app.settings.public_url)
    return TicketOut.of(ticket, actor, app.clock.tz)


@router.post("/tickets/{ticket_id}/comments", tags=["tickets"], status_code=status.HTTP_201_CREATED)
def comment_ticket(ticket_id: IdPath, body: CommentIn, actor: ActorDep, app: AppDep) -> EventOut:
    event = ticket_svc.comment_ticket(ticket_svc.Comment(actor, ticket_id, body.text), app.uows(), app.clock)
    return EventOut.of(event, app.clock.tz)
