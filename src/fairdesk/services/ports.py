"""What the services need from the outside, declared here and implemented in adapters/."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, Self

__all__ = ["UnitOfWork", "UowFactory"]


class UnitOfWork(Protocol):
    """One transaction and the repositories working inside it (adapters/db/uow.py implements it)."""

    brands: Any
    users: Any
    customers: Any
    products: Any
    units: Any
    tickets: Any
    idempotency: Any
    outlets: Any
    plans: Any
    channels: Any
    evidence: Any
    contact: Any
    sla: Any
    timers: Any
    outbox: Any
    webhooks: Any
    jobs: Any
    surveys: Any
    tasks: Any
    runs: Any
    technicians: Any
    appointments: Any
    stock: Any
    complaints: Any
    credit: Any
    calendars: Any

    def __enter__(self) -> Self: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def savepoint(self) -> Any: ...


class UowFactory(Protocol):
    """Makes a fresh unit of work; read-only ones may skip write locks."""

    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...
