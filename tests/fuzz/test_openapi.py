"""Schemathesis over our own OpenAPI document: generated requests to every operation, as a manager of brand A
(and, for the public operations, as anybody). No response may be a 5xx, and every response must match what
the document says (content type, body schema)."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from fairdesk.bootstrap import App
from fairdesk.entrypoints.app import create_app
from fairdesk.services import identity
from tests.conftest import Seed

EXAMPLES = int(os.environ.get("FAIRDESK_FUZZ_EXAMPLES", "15"))


def test_no_5xx_and_responses_match_the_schema(wired: App, seed: Seed) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(wired))
    checks = [schemathesis.checks.not_a_server_error, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    walked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        walked += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case: Any) -> None:
            # The generated Authorization header (the API documents it) is replaced by a real token.
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            case.headers.update(seed.auth("manager_a"))
            if (case.method, case.path) == ("DELETE", "/api/v1/auth/token"):  # revokes the token it carries
                case.headers["Authorization"] = "Bearer " + identity.issue_token(wired.uows(), wired.clock,
                                                                                 "manager_a")
            case.call_and_validate(checks=checks)

        try:
            run()
        except BaseException as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert walked > 100
    assert not failures, "\n\n".join(failures)
