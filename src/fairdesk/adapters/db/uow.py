"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from fairdesk.adapters.db import repositories as repos
from fairdesk.adapters.db.engine import Engines
from fairdesk.adapters.db.tables import start_mappers

__all__ = ["SqlUnitOfWork", "UnitOfWorkFactory"]


class SqlUnitOfWork:
    """``with uow: …; uow.commit()`` — anything not committed is rolled back on exit."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> SqlUnitOfWork:
        self.session = self._session_factory()
        s = self.session
        self.brands = repos.BrandRepository(s)
        self.users = repos.UserRepository(s)
        self.customers = repos.CustomerRepository(s)
        self.products = repos.ProductRepository(s)
        self.units = repos.UnitRepository(s)
        self.tickets = repos.TicketRepository(s)
        self.idempotency = repos.IdempotencyRepository(s)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back whatever was not committed and detaches the objects without expiring them,
        # so what a use case returns stays readable after its transaction.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class UnitOfWorkFactory:
    """Makes units of work; ``readonly=True`` ones use the read engine and never take SQLite's write lock."""

    def __init__(self, engines: Engines) -> None:
        start_mappers()
        self._write = sessionmaker(bind=engines.write, expire_on_commit=False)
        self._read = sessionmaker(bind=engines.read.execution_options(fairdesk_readonly=True),
                                  expire_on_commit=False)

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._read if readonly else self._write)
