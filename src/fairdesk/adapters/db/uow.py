"""The unit of work: one transaction, with the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from fairdesk.adapters.db import calendars, complaints, dispatch, parts, work, workforce
from fairdesk.adapters.db import repositories as repos
from fairdesk.adapters.db.engine import Engines, WriteGate
from fairdesk.adapters.db.tables import start_mappers
from fairdesk.domain.errors import Duplicate, StaleState

__all__ = ["SqlUnitOfWork", "UnitOfWorkFactory"]


class SqlUnitOfWork:
    """``with uow: …; uow.commit()`` — anything not committed is rolled back on exit."""

    session: Session

    def __init__(self, session_factory: sessionmaker[Session], gate: WriteGate | None = None) -> None:
        self._session_factory = session_factory
        self._gate = gate

    def __enter__(self) -> SqlUnitOfWork:
        if self._gate is not None:
            self._gate.__enter__()
        self.session = self._session_factory()
        s = self.session
        self.brands = repos.BrandRepository(s)
        self.users = repos.UserRepository(s)
        self.customers = repos.CustomerRepository(s)
        self.products = repos.ProductRepository(s)
        self.units = repos.UnitRepository(s)
        self.tickets = repos.TicketRepository(s)
        self.idempotency = repos.IdempotencyRepository(s)
        self.outlets = repos.OutletRepository(s)
        self.plans = repos.PlanRepository(s)
        self.channels = repos.ChannelRepository(s)
        self.evidence = repos.EvidenceRepository(s)
        self.contact = repos.ContactRepository(s)
        self.sla = repos.SlaRepository(s)
        self.timers = work.SlaTimerRepository(s)
        self.outbox = work.OutboxRepository(s)
        self.webhooks = work.WebhookRepository(s)
        self.jobs = work.JobRepository(s)
        self.surveys = work.SurveyRepository(s)
        self.tasks = work.TaskRepository(s)
        self.runs = work.RunRepository(s)
        self.technicians = workforce.TechnicianRepository(s)
        self.visits = dispatch.VisitRepository(s)
        self.stock = parts.StockRepository(s)
        self.complaints = complaints.ComplaintRepository(s)
        self.credit = complaints.CreditRepository(s)
        self.calendars = calendars.CalendarRepository(s)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back whatever was not committed and detaches the objects without expiring them,
        # so what a use case returns stays readable after its transaction.
        try:
            self.session.close()
        finally:
            if self._gate is not None:
                self._gate.__exit__()
        # The services speak of the rule, not of the driver: a broken unique key or a lost optimistic lock leaves
        # the unit of work as a domain error.
        if isinstance(exc, IntegrityError):
            raise Duplicate(detail="that already exists") from exc
        if isinstance(exc, StaleDataError):
            raise StaleState(detail="changed meanwhile; reload and retry") from exc

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def savepoint(self) -> SessionTransaction:
        """A nested transaction: ``commit()`` keeps its work, ``rollback()`` undoes only it."""
        return self.session.begin_nested()


class UnitOfWorkFactory:
    """Makes units of work; ``readonly=True`` ones use the read engine and never take SQLite's write lock."""

    def __init__(self, engines: Engines) -> None:
        start_mappers()
        self._gate = engines.write_gate
        self._write = sessionmaker(bind=engines.write, expire_on_commit=False)
        self._read = sessionmaker(bind=engines.read.execution_options(fairdesk_readonly=True),
                                  expire_on_commit=False)

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        if readonly:
            return SqlUnitOfWork(self._read)
        return SqlUnitOfWork(self._write, self._gate)
