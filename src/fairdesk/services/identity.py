"""Brands, users, passwords (argon2) and API tokens: who is acting."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fairdesk.domain.customers import validate_email
from fairdesk.domain.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.people import Actor, ApiToken, Brand, Lockout, Role, User
from fairdesk.domain.text import clean_text
from fairdesk.services import evidence
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork, UowFactory

__all__ = [
    "CreateUser",
    "actor_for",
    "actor_from_token",
    "authenticate",
    "create_brand",
    "create_user",
    "hash_token",
    "issue_token",
    "revoke_token",
]

MIN_PASSWORD = 8
TOKEN_PREFIX = "fd_"  # noqa: S105 — a public prefix that marks our tokens, not a secret
_hasher = PasswordHasher()
log = structlog.get_logger()
#: After five failures in a row the name waits 30 s, then 1 min, 2 min … up to an hour per further failure.
LOCKOUT = Lockout()
# Verifying against this when the user does not exist keeps the response time the same either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """An argon2 hash of a password long enough to be one."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("user.weak_password", f"a password has at least {MIN_PASSWORD} characters",
                           field="password")
    return _hasher.hash(password)


def hash_token(raw: str) -> str:
    """Tokens are 256-bit random values, so a plain SHA-256 is a safe, fast lookup key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def actor_for(user: User) -> Actor:
    return Actor(brand_id=user.brand_id, role=user.role, user_id=user.id, customer_id=user.customer_id,
                 label=f"{user.role.value}:{user.username}")


def create_brand(uow: UnitOfWork, clock: Clock, *, code: str, name: str, ticket_prefix: str = "FD") -> Brand:
    with uow:
        if uow.brands.by_code(code):
            raise Conflict("brand.exists", f"brand {code!r} exists")
        brand = Brand(code=code, name=name, ticket_prefix=ticket_prefix, created_at=clock.now())
        uow.brands.add(brand)
        uow.brands.flush()
        uow.evidence.start_chain(brand.id)  # the evidence chain exists from the brand's first moment
        uow.commit()
    return brand


def set_registration(uow: UnitOfWork, actor: Actor, clock: Clock, *, legal_name: str, address: str) -> Brand:
    """The brand's registered name and full address (营业执照上的名称和住所), for complaint case files.
    Managers set it; the change is in the evidence log."""
    require_role(actor, Role.MANAGER, what="set the brand's registration")
    legal_name = clean_text(legal_name, "legal_name", 200, collapse=True)
    address = clean_text(address, "registered_address", 300, collapse=True)
    with uow:
        brand = uow.brands.get(actor.brand_id)
        brand.legal_name, brand.registered_address = legal_name, address
        evidence.record(uow, brand.id, EvidenceKind.BRAND_REGISTRATION, f"brand:{brand.code}", None,
                        {"legal_name": legal_name, "registered_address": address, "by": actor.describe()}, clock)
        uow.commit()
    return brand


@dataclass(frozen=True)
class CreateUser:
    brand_code: str
    username: str
    display_name: str
    role: Role
    password: str | None = None
    customer_id: int | None = None
    language: str = "zh-CN"
    email: str | None = None


def create_user(cmd: CreateUser, uow: UnitOfWork, clock: Clock) -> User:
    """A user of one brand; a customer user is tied to that brand's customer record."""
    if cmd.password is not None and len(cmd.password) < MIN_PASSWORD:
        raise InvalidInput("user.weak_password", f"a password has at least {MIN_PASSWORD} characters",
                           field="password")
    if not cmd.username or len(cmd.username) > 64 or not cmd.username.isprintable():
        raise InvalidInput("user.invalid_username", "a username is 1-64 printable characters",
                           field="username")
    with uow:
        brand = uow.brands.by_code(cmd.brand_code)
        if brand is None:
            raise NotFound("brand.not_found", f"no brand {cmd.brand_code!r}")
        if uow.users.by_username(cmd.username):
            raise Conflict("user.exists", f"username {cmd.username!r} is taken")
        if (cmd.role is Role.CUSTOMER) != (cmd.customer_id is not None):
            raise InvalidInput("user.customer_link", "a customer user needs a customer record, staff none")
        if cmd.customer_id is not None and uow.customers.get(brand.id, cmd.customer_id) is None:
            raise NotFound("customer.not_found", f"no customer {cmd.customer_id}")
        user = User(brand_id=brand.id, username=cmd.username, display_name=cmd.display_name,
                    role=cmd.role, customer_id=cmd.customer_id, language=cmd.language,
                    email=validate_email(cmd.email) if cmd.email else None,
                    password_hash=_hasher.hash(cmd.password) if cmd.password else None,
                    created_at=clock.now())
        uow.users.add(user)
        uow.commit()
    return user


def authenticate(uows: UowFactory, username: str, password: str, clock: Clock, lockout: Lockout = LOCKOUT) -> User:
    """Check a password; the same error whether the user is unknown or the password wrong.

    Repeated failures lock the name for a growing time (``Lockout``), checked before the password, so a locked
    name answers 429 with Retry-After even to the right password. The slow argon2 check runs outside any write
    transaction (on SQLite a write would hold every other writer back for its duration); failures, a cleared
    count and an outdated hash are written in short transactions of their own.
    """
    name = username.strip().lower()[:64]
    now = clock.now()
    with uows(readonly=True) as uow:
        user = uow.users.by_username(username)
        state = uow.users.failure_state(name)
    if state is not None and state.locked_until is not None and state.locked_until > now:
        wait = math.ceil((state.locked_until - now).total_seconds())
        raise TooManyRequests("auth.locked", f"too many failed logins for this name; try again in {wait} s",
                              retry_after=wait)
    stored = user.password_hash if user and user.active and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
        ok = user is not None and stored is not _DUMMY_HASH
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        with uows() as uow:
            failures = uow.users.record_failure(name, now)
            wait = lockout.locked_for(failures)
            if wait:
                uow.users.lock(name, now + timedelta(seconds=wait))
            uow.commit()
        log.warning("auth.failed", failures=failures, locked_s=wait)  # never the name or the password
        raise Unauthenticated("auth.bad_credentials", "wrong username or password")
    if state is not None or _hasher.check_needs_rehash(stored):
        with uows() as uow:
            if state is not None:
                uow.users.clear_failures(name)
            if _hasher.check_needs_rehash(stored):
                fresh = uow.users.get(user.id)
                fresh.password_hash = _hasher.hash(password)
            uow.commit()
    return user


def issue_token(uow: UnitOfWork, clock: Clock, username: str, name: str = "api") -> str:
    """A new API token for a user; the raw value is shown once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        user = uow.users.by_username(username)
        if user is None:
            raise NotFound("user.not_found", f"no user {username!r}")
        uow.users.add(ApiToken(user_id=user.id, name=name, token_hash=hash_token(raw), created_at=clock.now()))
        uow.commit()
    return raw


#: How long a process trusts a token lookup. Every API request authenticates, and the lookup is most of
#: the cost of a small read; the price is that revoking a token, or deactivating its user, takes effect in
#: other processes after at most this long (in the revoking process at once).
TOKEN_CACHE_SECONDS = 10.0
_TOKEN_CACHE_MAX = 10_000
_token_cache: dict[str, tuple[float, Actor]] = {}


def actor_from_token(uow: UnitOfWork, raw: str) -> Actor:
    """The actor behind a bearer token, or 401."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        raise Unauthenticated("auth.bad_token", "the token is not valid")
    digest = hash_token(raw)
    now = time.monotonic()
    cached = _token_cache.get(digest)
    if cached is not None and cached[0] > now:
        return cached[1]
    with uow:
        found = uow.users.token_by_hash(digest)
        if found is None or found[0].revoked_at is not None or not found[1].active:
            _token_cache.pop(digest, None)
            raise Unauthenticated("auth.bad_token", "the token is not valid")
        actor = actor_for(found[1])
    if len(_token_cache) >= _TOKEN_CACHE_MAX:
        _token_cache.clear()
    _token_cache[digest] = (now + TOKEN_CACHE_SECONDS, actor)
    return actor


def revoke_token(uow: UnitOfWork, clock: Clock, raw: str) -> None:
    """Revoke a token: refused here at once, everywhere within TOKEN_CACHE_SECONDS."""
    digest = hash_token(raw)
    with uow:
        found = uow.users.token_by_hash(digest)
        if found is None:
            raise NotFound("auth.token_not_found", "no such token")
        found[0].revoked_at = clock.now()
        uow.commit()
    _token_cache.pop(digest, None)
