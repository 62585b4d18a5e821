"""Rate limits on the endpoints anyone can reach: login, the public checks and pages, and intake.

A moving window per client from the `limits` library (in process memory by default; Redis or Memcached when
FAIRDESK_RATE_LIMIT_STORAGE names one, so that several API processes share the count). Over the limit: 429
with a problem JSON and Retry-After; nothing behind the limit runs.
"""

from __future__ import annotations

import hashlib
import math
import re
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fairdesk.config import Settings
from fairdesk.entrypoints.api.problems import problem_response

__all__ = ["RULES", "RateLimit"]

#: (rule, methods, path pattern). The first rule that matches counts the request.
RULES: tuple[tuple[str, frozenset[str], re.Pattern[str]], ...] = (
    ("login", frozenset({"POST"}), re.compile(r"/api/v1/auth/token|/login")),
    ("intake", frozenset({"POST"}), re.compile(r"/api/v1/(tickets|conversations|complaints)|/my/complaints")),
    ("public", frozenset({"GET", "POST"}), re.compile(
        r"/api/v1/(channels/check|clauses/check|regions/resolve|evidence/verify-bundle|evidence/keys/[^/]+"
        r"|transparency/[^/]+|surveys/[^/]+|dispatch/scoring|credit/.*|public/.*)"
        r"|/check|/s/[^/]+|/transparency/[^/]+|/brands/[^/]+/credit|/credit/method")),
)


class RateLimit:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        specs = {"login": settings.rate_limit_login, "intake": settings.rate_limit_intake,
                 "public": settings.rate_limit_public}
        self.items: dict[str, RateLimitItem] = {k: parse(v) for k, v in specs.items() if v}
        uri = settings.rate_limit_storage
        self.limiter = MovingWindowRateLimiter(storage_from_string(uri if uri.startswith("async+") else
                                                                   "async+" + uri))

    def _rule(self, scope: Scope) -> str | None:
        method, path = scope["method"], scope["path"]
        for name, methods, pattern in RULES:
            if method in methods and pattern.fullmatch(path):
                return name if name in self.items else None
        return None

    @staticmethod
    def _who(scope: Scope, rule: str) -> str:
        if rule == "intake":
            auth = dict(scope["headers"]).get(b"authorization")
            if auth:  # per credential: a call centre behind one address is many agents
                return "token:" + hashlib.sha256(auth).hexdigest()[:32]
        client = scope.get("client")
        return "ip:" + (client[0] if client else "unknown")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self._rule(scope) if scope["type"] == "http" else None
        if rule is None:
            await self.app(scope, receive, send)
            return
        item, who = self.items[rule], self._who(scope, rule)
        if await self.limiter.hit(item, rule, who):
            await self.app(scope, receive, send)
            return
        stats = await self.limiter.get_window_stats(item, rule, who)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        response = problem_response(Request(scope, receive), 429, "rate.limited",
                                    f"more than {item} from you on {rule} endpoints; try again in {wait} s",
                                    headers={"Retry-After": str(wait)})
        await response(scope, receive, send)
