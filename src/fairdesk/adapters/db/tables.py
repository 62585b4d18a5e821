"""Tables and their imperative mapping onto the plain domain classes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry, relationship

from fairdesk.adapters.db.types import Fen, UTCDateTime, enum_column
from fairdesk.domain.channels import ChannelKind
from fairdesk.domain.complaints import Category as ComplaintCategory
from fairdesk.domain.complaints import Complaint, RejectReason
from fairdesk.domain.complaints import Status as ComplaintStatus
from fairdesk.domain.contact import Conversation, ConversationStatus
from fairdesk.domain.customers import Address, Customer, Phone, Product, Unit
from fairdesk.domain.network import Outlet
from fairdesk.domain.people import ApiToken, Brand, Role, User
from fairdesk.domain.plans import BillingPeriod, ChangePolicy, Subscription, SubscriptionStatus
from fairdesk.domain.tickets import Category, Channel, EventKind, Priority, Status, Ticket, TicketEvent

__all__ = ["mapper_registry", "metadata", "start_mappers"]

naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=naming)
mapper_registry = registry(metadata=metadata)

# Big integer ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, *, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(name, Id, sa.ForeignKey(target), nullable=nullable, index=index)


brands = sa.Table(
    "brands", metadata, _id(),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("ticket_prefix", sa.String(4), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("legal_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("registered_address", sa.String(300), nullable=False, server_default=""),
)

customers = sa.Table(
    "customers", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
    sa.Column("language", sa.String(8), nullable=False, server_default="zh-CN"),
)

customer_phones = sa.Table(
    "customer_phones", metadata, _id(),
    _fk("customer_id", "customers.id", index=True),
    sa.Column("e164", sa.String(20), nullable=False, index=True),
    sa.Column("label", sa.String(20), nullable=False),
)

customer_addresses = sa.Table(
    "customer_addresses", metadata, _id(),
    _fk("customer_id", "customers.id", index=True),
    sa.Column("text", sa.String(300), nullable=False),
    sa.Column("adcode", sa.String(12), nullable=True),
)

users = sa.Table(
    "users", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("role", enum_column(Role), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),
    _fk("customer_id", "customers.id", nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("email", sa.String(254), nullable=True),
)

api_tokens = sa.Table(
    "api_tokens", metadata, _id(),
    _fk("user_id", "users.id", index=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
)

products = sa.Table(
    "products", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("product_line", sa.String(64), nullable=False),
    sa.UniqueConstraint("brand_id", "model", name="uq_products_brand_model"),
)

units = sa.Table(
    "units", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("customer_id", "customers.id", index=True),
    _fk("product_id", "products.id"),
    sa.Column("serial_number", sa.String(64), nullable=False),
    sa.Column("purchase_date", sa.Date(), nullable=True),
    sa.Column("warranty_end", sa.Date(), nullable=True),
    sa.UniqueConstraint("brand_id", "serial_number", name="uq_units_brand_serial"),
)

tickets = sa.Table(
    "tickets", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("number", sa.String(32), nullable=False),
    _fk("customer_id", "customers.id"),
    _fk("unit_id", "units.id", nullable=True),
    _fk("address_id", "customer_addresses.id", nullable=True),
    sa.Column("channel", enum_column(Channel), nullable=False),
    sa.Column("category", enum_column(Category), nullable=False),
    sa.Column("priority", enum_column(Priority), nullable=False),
    sa.Column("status", enum_column(Status), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    _fk("assignee_id", "users.id", nullable=True),
    _fk("outlet_id", "outlets.id", nullable=True),
    _fk("technician_id", "users.id", nullable=True),
    sa.UniqueConstraint("brand_id", "number", name="uq_tickets_brand_number"),
    # Keyset pagination walks (brand, id) backwards, optionally within one status or one customer.
    sa.Index("ix_tickets_brand_id_id", "brand_id", "id"),
    sa.Index("ix_tickets_brand_status_id", "brand_id", "status", "id"),
    sa.Index("ix_tickets_customer_id_id", "customer_id", "id"),
    sa.Index("ix_tickets_assignee_id_id", "assignee_id", "id"),  # an agent's own queue
)

ticket_events = sa.Table(
    "ticket_events", metadata, _id(),
    _fk("ticket_id", "tickets.id"),
    _fk("brand_id", "brands.id"),
    sa.Column("kind", enum_column(EventKind), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("from_status", enum_column(Status), nullable=True),
    sa.Column("to_status", enum_column(Status), nullable=True),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Index("ix_ticket_events_ticket_id_id", "ticket_id", "id"),
)

ticket_counters = sa.Table(
    "ticket_counters", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("value", sa.Integer(), nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("scope", sa.String(100), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("resource_id", Id, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("brand_id", "scope", "key", name="uq_idempotency_keys_brand_scope_key"),
)

outlets = sa.Table(
    "outlets", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("address", sa.String(300), nullable=False),
    sa.Column("adcode", sa.String(12), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("hotline", sa.String(32), nullable=False),
    sa.Column("opening_hours", sa.String(200), nullable=False),
    # The outlet's working week, on the same model as a technician's (NULL shifts: hours not set, no limit).
    sa.Column("open_shifts", sa.String(100), nullable=True),
    sa.Column("open_weekdays", sa.String(20), nullable=False, server_default="1-7"),
    sa.Column("closed_on_holidays", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("brand_id", "code", name="uq_outlets_brand_code"),
)

# Days an outlet is closed beyond its week (a move, a local holiday, a stocktake): no visit is offered.
outlet_closures = sa.Table(
    "outlet_closures", metadata,
    sa.Column("outlet_id", Id, sa.ForeignKey("outlets.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    _fk("brand_id", "brands.id"),
    sa.Column("reason", sa.String(200), nullable=False),
)

outlet_coverage = sa.Table(
    "outlet_coverage", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("outlet_id", "outlets.id"),
    sa.Column("adcode", sa.String(12), nullable=False),
    sa.UniqueConstraint("outlet_id", "adcode", name="uq_outlet_coverage_outlet_adcode"),
    # Routing asks "which of the brand's outlets cover any code on this chain?"
    sa.Index("ix_outlet_coverage_brand_adcode", "brand_id", "adcode"),
)

plan_families = sa.Table(
    "plan_families", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("policy", enum_column(ChangePolicy), nullable=False),
    sa.Column("save_offer", sa.String(300), nullable=False),
    sa.UniqueConstraint("brand_id", "code", name="uq_plan_families_brand_code"),
)

plans = sa.Table(
    "plans", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("family", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("price", Fen(), nullable=False),
    sa.Column("period", enum_column(BillingPeriod), nullable=False),
    sa.Column("features", sa.Text(), nullable=False),
    sa.Column("retired", sa.Boolean(), nullable=False),
    sa.Column("terms_version", sa.String(32), nullable=False),
    sa.UniqueConstraint("brand_id", "code", name="uq_plans_brand_code"),
)

subscriptions = sa.Table(
    "subscriptions", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("customer_id", "customers.id", index=True),
    sa.Column("plan_code", sa.String(64), nullable=False),
    sa.Column("period_start", UTCDateTime(), nullable=False),
    sa.Column("period_end", UTCDateTime(), nullable=False),
    sa.Column("paid_since", UTCDateTime(), nullable=False),
    sa.Column("paid_amount", Fen(), nullable=False),
    sa.Column("payment_method", sa.String(32), nullable=False),
    sa.Column("auto_renew", sa.Boolean(), nullable=False),
    sa.Column("status", enum_column(SubscriptionStatus), nullable=False),
    sa.Column("pending_plan_code", sa.String(64), nullable=True),
    sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("offer_shown", sa.Boolean(), nullable=False),
    sa.Column("previews", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # The renewal sweep walks active subscriptions by period end.
    sa.Index("ix_subscriptions_status_period_end", "status", "period_end"),
)

consents = sa.Table(
    "consents", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("subscription_id", "subscriptions.id", index=True),
    sa.Column("terms_version", sa.String(32), nullable=False),
    sa.Column("price", Fen(), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
)

plan_changes = sa.Table(
    "plan_changes", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("subscription_id", "subscriptions.id", index=True),
    sa.Column("from_plan", sa.String(64), nullable=False),
    sa.Column("to_plan", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("policy", enum_column(ChangePolicy), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("submitted_at", UTCDateTime(), nullable=False),
    sa.Column("effective_at", UTCDateTime(), nullable=False),
    sa.Column("net", Fen(), nullable=False),
    sa.Column("lines", sa.Text(), nullable=False),
    sa.Column("steps", sa.Integer(), nullable=False, server_default="1"),  # requests the customer made for it
)

ledger_entries = sa.Table(
    "ledger_entries", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("subscription_id", "subscriptions.id", index=True),
    _fk("change_id", "plan_changes.id", nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),  # charge | refund
    sa.Column("amount", Fen(), nullable=False),
    sa.Column("payment_method", sa.String(32), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
)

reminders = sa.Table(
    "reminders", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("subscription_id", "subscriptions.id"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("for_period_end", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.Column("queued_at", UTCDateTime(), nullable=True),  # when its message went into the outbox
    sa.UniqueConstraint("subscription_id", "kind", "for_period_end", name="uq_reminders_once"),
    sa.Index("ix_reminders_unqueued", "queued_at", "id"),
)

official_channels = sa.Table(
    "official_channels", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    sa.Column("kind", enum_column(ChannelKind), nullable=False),
    sa.Column("value", sa.String(200), nullable=False),  # normalized: +86… for phones, host/path for websites
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("kind", "value", name="uq_official_channels_kind_value"),
)

evidence_entries = sa.Table(
    "evidence_entries", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("at", sa.String(40), nullable=False),  # ISO 8601 UTC, exactly as hashed
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(60), nullable=False),
    sa.Column("customer_id", Id, nullable=True),
    sa.Column("payload", sa.Text(), nullable=False),  # canonical JSON, exactly as hashed
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("brand_id", "seq", name="uq_evidence_entries_brand_seq"),
    sa.Index("ix_evidence_entries_brand_customer", "brand_id", "customer_id"),
)

evidence_heads = sa.Table(
    "evidence_heads", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

evidence_checkpoints = sa.Table(
    "evidence_checkpoints", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    sa.Column("from_seq", sa.BigInteger(), nullable=False),
    sa.Column("to_seq", sa.BigInteger(), nullable=False),
    sa.Column("merkle_root", sa.String(64), nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.String(40), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
)

brand_keys = sa.Table(
    "brand_keys", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    # Raw Ed25519 key. Known limitation: kept in the database; production should hold it in a KMS/HSM.
    sa.Column("private_key", sa.String(64), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

routing_policies = sa.Table(
    "routing_policies", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    sa.Column("policy", sa.Text(), nullable=False),  # JSON, published verbatim
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

agents = sa.Table(
    "agents", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    _fk("user_id", "users.id"),
    sa.Column("languages", sa.String(64), nullable=False),  # comma-separated
    sa.Column("skills", sa.String(128), nullable=False, server_default="general"),  # comma-separated
    sa.Column("capacity", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("last_assigned_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("user_id", name="uq_agents_user_id"),
)

conversations = sa.Table(
    "conversations", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("customer_id", "customers.id", nullable=True, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("vulnerable", sa.Boolean(), nullable=False),
    sa.Column("status", enum_column(ConversationStatus), nullable=False),
    sa.Column("intent", sa.String(16), nullable=False),
    sa.Column("bot_steps", sa.Integer(), nullable=False),
    sa.Column("unserved", sa.Integer(), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("handed_at", UTCDateTime(), nullable=True),
    sa.Column("assigned_at", UTCDateTime(), nullable=True),
    sa.Column("agent_id", Id, nullable=True),  # the user id of the agent
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    _fk("ticket_id", "tickets.id", nullable=True),
    _fk("subscription_id", "subscriptions.id", nullable=True),
    sa.Column("alerted_at", UTCDateTime(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    # The first human answer: the wait for a person ends here (not at the assignment).
    sa.Column("first_reply_at", UTCDateTime(), nullable=True),
    # The queue: a brand's waiting conversations by hand-over time; reports by opening time.
    sa.Index("ix_conversations_brand_status_handed", "brand_id", "status", "handed_at"),
    sa.Index("ix_conversations_brand_opened", "brand_id", "opened_at"),
)

conversation_messages = sa.Table(
    "conversation_messages", metadata, _id(),
    _fk("conversation_id", "conversations.id", index=True),
    sa.Column("sender", sa.String(16), nullable=False),  # customer | bot | agent | transfer
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("intent", sa.String(16), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("agent_id", Id, nullable=True),  # the person who answered (or, on a transfer, who takes over)
)

sla_policies = sa.Table(
    "sla_policies", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("category", enum_column(Category), nullable=False),
    sa.Column("priority", enum_column(Priority), nullable=False),
    sa.Column("first_response_min", sa.Integer(), nullable=False),
    sa.Column("resolution_min", sa.Integer(), nullable=False),
    sa.Column("around_the_clock", sa.Boolean(), nullable=False),
    sa.Column("onsite_min", sa.Integer(), nullable=True),
    # Comma-separated statuses that pause the resolution clock; JSON list of escalation steps.
    sa.Column("pause_on", sa.String(100), nullable=False, server_default="waiting_customer,waiting_parts"),
    sa.Column("escalations", sa.Text(), nullable=False, server_default="[]"),
    # The on-site and resolution clocks of a request an outlet has also stop on that outlet's closure days.
    sa.Column("outlet_calendar", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("brand_id", "category", "priority", name="uq_sla_policies_brand_category_priority"),
)

brand_calendars = sa.Table(
    "brand_calendars", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    sa.Column("shifts", sa.String(200), nullable=False),  # "09:00-12:00,13:00-18:00"
)

brand_closures = sa.Table(
    "brand_closures", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("reason", sa.String(200), nullable=False),
)

# The State Council's yearly arrangements as imported by an operator: a version is a draft until applied,
# then governs its year's days from ``effective_from`` (the day after it was applied) on; never edited or deleted.
calendar_versions = sa.Table(
    "calendar_versions", metadata, _id(),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("number", sa.Integer(), nullable=True),  # 1, 2, … within the year, once applied
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("filename", sa.String(200), nullable=False, server_default=""),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("applied_by", sa.String(100), nullable=True),
    sa.Column("applied_at", UTCDateTime(), nullable=True),
    sa.Column("effective_from", sa.Date(), nullable=True),
    sa.UniqueConstraint("year", "number", name="uq_calendar_versions_year_number"),
)

calendar_days = sa.Table(
    "calendar_days", metadata,
    sa.Column("version_id", Id, sa.ForeignKey("calendar_versions.id"), primary_key=True),
    sa.Column("day", sa.Date(), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # holiday | makeup
    sa.Column("festival", sa.String(8), nullable=False),
)

# One row per escalation step of an open ticket. ``due_at`` is a hint computed when the ticket or its policy
# changed; the worker recomputes the clock from the events before acting. A fired step keeps its row (with
# ``fired_at``, ``due_at`` NULL) so a later recompute does not fire it again; a sweep reads only due rows.
sla_timers = sa.Table(
    "sla_timers", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("ticket_id", "tickets.id"),
    sa.Column("clock", sa.String(16), nullable=False),  # first_response | onsite | resolution
    sa.Column("percent", sa.Integer(), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("to_user_id", Id, nullable=True),
    sa.Column("due_at", UTCDateTime(), nullable=True),  # NULL once fired: the sweep's index skips it
    sa.Column("fired_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("ticket_id", "clock", "percent", "action", name="uq_sla_timers_step"),
    sa.Index("ix_sla_timers_due_at", "due_at"),
)

# Messages to the outside world, written in the same transaction as what caused them and delivered by the
# worker at least once. ``event_id`` travels with every message so receivers can drop repeats.
outbox = sa.Table(
    "outbox", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("transport", sa.String(8), nullable=False),  # email | sms | webhook
    sa.Column("recipient", sa.String(500), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    _fk("webhook_id", "webhooks.id", nullable=True),
    sa.Column("status", sa.String(8), nullable=False),  # pending | sent | dead
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

deliveries = sa.Table(
    "deliveries", metadata, _id(),
    _fk("outbox_id", "outbox.id", index=True),
    sa.Column("attempt", sa.Integer(), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    sa.Column("detail", sa.String(500), nullable=False),
    sa.Column("duration_ms", sa.Integer(), nullable=False),
)

webhooks = sa.Table(
    "webhooks", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("events", sa.String(500), nullable=False),  # "*" or comma-separated kinds
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

periodic_jobs = sa.Table(
    "periodic_jobs", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("next_run_at", UTCDateTime(), nullable=False),
    sa.Column("last_run_at", UTCDateTime(), nullable=True),
    sa.Column("last_result", sa.String(500), nullable=False, server_default=""),
)

surveys = sa.Table(
    "surveys", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("ticket_id", Id, sa.ForeignKey("tickets.id"), nullable=False, unique=True),
    _fk("customer_id", "customers.id"),
    _fk("outlet_id", "outlets.id", nullable=True),
    _fk("technician_id", "users.id", nullable=True),
    sa.Column("product_line", sa.String(64), nullable=True),
    sa.Column("period", sa.String(7), nullable=False),  # Shanghai month of the resolution, "2026-11"
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("answered_at", UTCDateTime(), nullable=True),
    sa.Column("csat", sa.SmallInteger(), nullable=True),
    sa.Column("nps", sa.SmallInteger(), nullable=True),
    sa.Column("technician_rating", sa.SmallInteger(), nullable=True),
    sa.Column("comment", sa.Text(), nullable=False, server_default=""),
    sa.Index("ix_surveys_brand_period", "brand_id", "period"),
)

tasks = sa.Table(
    "tasks", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("kind", sa.String(32), nullable=False),
    _fk("ticket_id", "tickets.id", nullable=True),
    _fk("survey_id", "surveys.id", nullable=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # open | done
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("done_at", UTCDateTime(), nullable=True),
    sa.Column("done_by", sa.String(100), nullable=True),
    sa.Column("note", sa.Text(), nullable=False, server_default=""),
    sa.Index("ix_tasks_brand_status", "brand_id", "status"),
)

# --- the field: technicians, visits, parts ---------------------------------------------------------------

technicians = sa.Table(
    "technicians", metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id"), primary_key=True),
    _fk("brand_id", "brands.id"),
    _fk("outlet_id", "outlets.id"),
    sa.Column("shifts", sa.String(200), nullable=False),
    sa.Column("weekdays", sa.String(20), nullable=False),
    sa.Column("holidays_off", sa.Boolean(), nullable=False),
    sa.Column("home_latitude", sa.Float(), nullable=True),
    sa.Column("home_longitude", sa.Float(), nullable=True),
    sa.Column("max_visits_per_day", sa.SmallInteger(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_technicians_outlet_id", "outlet_id"),
)

certifications = sa.Table(
    "certifications", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("technician_id", "users.id"),
    sa.Column("product_line", sa.String(64), nullable=False),
    sa.Column("level", sa.SmallInteger(), nullable=False),
    sa.Column("valid_from", sa.Date(), nullable=False),
    sa.Column("valid_to", sa.Date(), nullable=False),
    sa.Column("number", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_certifications_technician_line", "technician_id", "product_line"),
)

technician_leave = sa.Table(
    "technician_leave", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("technician_id", "users.id"),
    sa.Column("starts_at", UTCDateTime(), nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Index("ix_technician_leave_technician_ends", "technician_id", "ends_at"),
)

visits = sa.Table(
    "visits", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("ticket_id", "tickets.id", index=True),
    _fk("technician_id", "users.id"),
    _fk("outlet_id", "outlets.id"),
    sa.Column("starts_at", UTCDateTime(), nullable=False),
    sa.Column("ends_at", UTCDateTime(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # booked | on_site | completed | cancelled | no_show
    sa.Column("score", sa.Text(), nullable=False),  # JSON: cost, its terms, distance, load
    sa.Column("override_reason", sa.String(500), nullable=False, server_default=""),
    sa.Column("booked_by", sa.String(100), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("checked_in_at", UTCDateTime(), nullable=True),
    sa.Column("checked_out_at", UTCDateTime(), nullable=True),
    sa.Column("work_done", sa.Text(), nullable=False, server_default=""),
    sa.Column("closing_reason", sa.String(500), nullable=False, server_default=""),
    sa.Index("ix_visits_technician_starts", "technician_id", "starts_at"),
    sa.Index("ix_visits_brand_starts", "brand_id", "starts_at"),
)

# One row per 30-minute slot a booked visit holds: the primary key makes a double booking impossible.
technician_slots = sa.Table(
    "technician_slots", metadata,
    sa.Column("technician_id", Id, sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("slot_at", UTCDateTime(), primary_key=True),
    _fk("visit_id", "visits.id", index=True),
)

parts = sa.Table(
    "parts", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("sku", sa.String(40), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("serialized", sa.Boolean(), nullable=False),
    sa.Column("unit_cost", Fen(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("brand_id", "sku", name="uq_parts_brand_sku"),
)

part_models = sa.Table(
    "part_models", metadata,
    sa.Column("part_id", Id, sa.ForeignKey("parts.id"), primary_key=True),
    sa.Column("product_id", Id, sa.ForeignKey("products.id"), primary_key=True),
)

stock_locations = sa.Table(
    "stock_locations", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # warehouse | outlet | van
    _fk("outlet_id", "outlets.id", nullable=True, index=True),
    _fk("technician_id", "users.id", nullable=True, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("brand_id", "code", name="uq_stock_locations_brand_code"),
)

# The maintained balance; the ledger below is the record it is derived from.
stock_balances = sa.Table(
    "stock_balances", metadata,
    sa.Column("location_id", Id, sa.ForeignKey("stock_locations.id"), primary_key=True),
    sa.Column("part_id", Id, sa.ForeignKey("parts.id"), primary_key=True),
    _fk("brand_id", "brands.id"),
    sa.Column("on_hand", sa.Integer(), nullable=False),
    sa.Column("reserved", sa.Integer(), nullable=False),
    sa.Column("reorder_point", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("reorder_qty", sa.Integer(), nullable=False, server_default="0"),
    sa.CheckConstraint("on_hand >= 0", name="on_hand"),
    sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved"),
    sa.Index("ix_stock_balances_part", "part_id"),
)

serial_items = sa.Table(
    "serial_items", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("part_id", "parts.id"),
    sa.Column("serial", sa.String(64), nullable=False),
    _fk("location_id", "stock_locations.id", nullable=True),
    sa.Column("status", sa.String(10), nullable=False),  # in_stock | reserved | consumed | scrapped
    sa.UniqueConstraint("brand_id", "part_id", "serial", name="uq_serial_items_brand_part_serial"),
    sa.Index("ix_serial_items_location_part_status", "location_id", "part_id", "status"),
)

stock_movements = sa.Table(
    "stock_movements", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    _fk("part_id", "parts.id"),
    _fk("from_location_id", "stock_locations.id", nullable=True),
    _fk("to_location_id", "stock_locations.id", nullable=True),
    sa.Column("qty", sa.Integer(), nullable=False),
    sa.Column("from_reservation", sa.Boolean(), nullable=False),
    sa.Column("serial", sa.String(64), nullable=True),
    sa.Column("reservation_id", Id, nullable=True),
    _fk("ticket_id", "tickets.id", nullable=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("note", sa.String(500), nullable=False, server_default=""),
    sa.CheckConstraint("qty > 0", name="qty"),
    sa.Index("ix_stock_movements_brand_part_id", "brand_id", "part_id", "id"),
)

reservations = sa.Table(
    "reservations", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("visit_id", "visits.id", index=True),
    _fk("ticket_id", "tickets.id"),
    _fk("part_id", "parts.id"),
    _fk("location_id", "stock_locations.id"),
    sa.Column("qty", sa.Integer(), nullable=False),
    _fk("serial_item_id", "serial_items.id", nullable=True),
    sa.Column("status", sa.String(10), nullable=False),  # held | consumed | released
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("username", sa.String(64), primary_key=True),  # as typed (lower-cased), known or not
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("last_failure_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
)

access_log = sa.Table(
    "access_log", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    _fk("customer_id", "customers.id"),
    sa.Column("what", sa.String(60), nullable=False),  # e.g. customer, customer.lookup, evidence.bundle
    sa.Index("ix_access_log_brand_customer_at", "brand_id", "customer_id", "at"),
)

complaint_terms = sa.Table(
    "complaint_terms", metadata,
    sa.Column("brand_id", Id, sa.ForeignKey("brands.id"), primary_key=True),
    sa.Column("green", sa.Boolean(), primary_key=True),
    sa.Column("acceptance_wd", sa.Integer(), nullable=False),
    sa.Column("first_response_h", sa.Integer(), nullable=False),
    sa.Column("mediation_wd", sa.Integer(), nullable=False),
)

complaint_groups = sa.Table(
    "complaint_groups", metadata, _id(),
    _fk("brand_id", "brands.id", index=True),
    sa.Column("category", enum_column(ComplaintCategory), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
)

complaints = sa.Table(
    "complaints", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("customer_id", "customers.id", index=True),
    _fk("outlet_id", "outlets.id", nullable=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("category", enum_column(ComplaintCategory), nullable=False),
    sa.Column("green", sa.Boolean(), nullable=False),
    sa.Column("status", enum_column(ComplaintStatus), nullable=False),
    sa.Column("complainant", sa.String(100), nullable=False),
    sa.Column("contact_phone", sa.String(20), nullable=False),
    sa.Column("request", sa.Text(), nullable=False),
    sa.Column("facts", sa.Text(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("due_acceptance", UTCDateTime(), nullable=False),
    sa.Column("due_first_response", UTCDateTime(), nullable=False),
    _fk("ticket_id", "tickets.id", nullable=True),
    _fk("subscription_id", "subscriptions.id", nullable=True),
    _fk("conversation_id", "conversations.id", nullable=True),
    sa.Column("accepted_at", UTCDateTime(), nullable=True),
    sa.Column("first_response_at", UTCDateTime(), nullable=True),
    sa.Column("due_mediation", UTCDateTime(), nullable=True),
    sa.Column("reject_reason", enum_column(RejectReason), nullable=True),
    sa.Column("proposal", sa.Text(), nullable=True),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
    sa.Column("consumer_confirmed", sa.Boolean(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    _fk("group_id", "complaint_groups.id", nullable=True, index=True),
    sa.Column("escalated_at", UTCDateTime(), nullable=True),
    sa.Index("ix_complaints_brand_status", "brand_id", "status"),
    sa.Index("ix_complaints_brand_received", "brand_id", "received_at"),
)

complaint_events = sa.Table(
    "complaint_events", metadata, _id(),
    _fk("complaint_id", "complaints.id", index=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("side", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("from_status", sa.String(20), nullable=True),
    sa.Column("to_status", sa.String(20), nullable=True),
    sa.Column("note", sa.Text(), nullable=False, server_default=""),
)

def _files(name: str, owner: str, owner_table: str) -> sa.Table:
    """Files kept with a record (a complaint's evidence, a request's photos), with their SHA-256."""
    return sa.Table(
        name, metadata, _id(),
        _fk(owner, f"{owner_table}.id", index=True),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("added_by", sa.String(100), nullable=False),
        info={"owner": owner},
    )


complaint_attachments = _files("complaint_attachments", "complaint_id", "complaints")

complaint_group_members = sa.Table(
    "complaint_group_members", metadata,
    sa.Column("group_id", Id, sa.ForeignKey("complaint_groups.id"), primary_key=True),
    sa.Column("complaint_id", Id, sa.ForeignKey("complaints.id"), primary_key=True),
    sa.Column("invited_at", UTCDateTime(), nullable=False),
    sa.Column("consented_at", UTCDateTime(), nullable=True),
    sa.Column("declined_at", UTCDateTime(), nullable=True),
    sa.Column("representative", sa.Boolean(), nullable=False),
)

credit_scores = sa.Table(
    "credit_scores", metadata, _id(),
    _fk("brand_id", "brands.id"),
    sa.Column("scope", sa.String(40), nullable=False),  # "brand" or "outlet:<code>"
    sa.Column("period", sa.String(7), nullable=False),  # Shanghai month, "2026-11"
    sa.Column("computed_at", UTCDateTime(), nullable=False),
    sa.Column("window_from", UTCDateTime(), nullable=False),
    sa.Column("window_to", UTCDateTime(), nullable=False),
    sa.Column("score", sa.Numeric(4, 1), nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("method", sa.Text(), nullable=False),  # JSON: the method's weights and pseudo-counts
    sa.Column("inputs", sa.Text(), nullable=False),  # JSON
    sa.Column("priors", sa.Text(), nullable=False),  # JSON
    sa.Column("parts", sa.Text(), nullable=False),  # JSON
    sa.UniqueConstraint("brand_id", "scope", "period", name="uq_credit_scores_brand_scope_period"),
)

ticket_attachments = _files("ticket_attachments", "ticket_id", "tickets")

# --- long-running work started from a page (imports, exports, reports), run by the worker --------------------

runs = sa.Table(
    "runs", metadata, _id(),
    _fk("brand_id", "brands.id"),
    _fk("user_id", "users.id"),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("params", sa.Text(), nullable=False, server_default="{}"),  # JSON
    sa.Column("input", sa.LargeBinary(), nullable=True),  # the uploaded file, dropped once the run ends
    sa.Column("status", sa.String(8), nullable=False),  # queued | running | done | failed
    sa.Column("phase", sa.String(16), nullable=False, server_default=""),
    sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("done", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("result", sa.Text(), nullable=True),  # JSON
    sa.Column("output", sa.LargeBinary(), nullable=True),
    sa.Column("output_name", sa.String(200), nullable=True),
    sa.Column("output_type", sa.String(100), nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=True),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index("ix_runs_status_created", "status", "created_at"),
    sa.Index("ix_runs_brand_user", "brand_id", "user_id"),
)

_started = False


def start_mappers() -> None:
    """Map the domain classes onto the tables, once per process."""
    global _started
    if _started:
        return
    _started = True
    m = mapper_registry.map_imperatively
    m(Brand, brands)
    m(User, users)
    m(ApiToken, api_tokens)
    m(Phone, customer_phones)
    m(Address, customer_addresses)
    m(Customer, customers, properties={
        "phones": relationship(Phone, order_by=customer_phones.c.id, cascade="all, delete-orphan",
                               lazy="selectin"),
        "addresses": relationship(Address, order_by=customer_addresses.c.id, cascade="all, delete-orphan",
                                  lazy="selectin"),
    })
    m(Outlet, outlets)
    m(Complaint, complaints)
    m(Conversation, conversations, version_id_col=conversations.c.version, version_id_generator=False)
    m(Subscription, subscriptions, properties={"version": subscriptions.c.version},
      version_id_col=subscriptions.c.version, version_id_generator=False)
    m(Product, products)
    m(Unit, units)
    m(TicketEvent, ticket_events)
    m(Ticket, tickets, properties={
        "events": relationship(TicketEvent, order_by=ticket_events.c.id, cascade="all",
                               lazy="select"),
    })
