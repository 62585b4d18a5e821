"""The `fairdesk` command: serve, demo, database, tickets, users. Errors exit 2 with the reason."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from fairdesk.bootstrap import App, bootstrap
from fairdesk.config import Settings, SettingsError, load_settings
from fairdesk.domain.errors import DomainError, NotFound
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Channel, Priority, Status, Ticket, TicketFilter
from fairdesk.services import customers as customer_svc
from fairdesk.services import identity
from fairdesk.services import tickets as ticket_svc

app = typer.Typer(help="fairdesk — after-sales service, fair to the consumer.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
ticket_app = typer.Typer(help="Service requests (tickets).", no_args_is_help=True)
user_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
brand_app = typer.Typer(help="Brands.", no_args_is_help=True)
customer_app = typer.Typer(help="Customers.", no_args_is_help=True)
regions_app = typer.Typer(help="China's administrative divisions.", no_args_is_help=True)
network_app = typer.Typer(help="Service outlets, their coverage, routing and gaps.", no_args_is_help=True)
plans_app = typer.Typer(help="Service plans: catalogues, quotes, changes, renewals.", no_args_is_help=True)
channels_app = typer.Typer(help="Official service channels: register, check, scan pages.", no_args_is_help=True)
clauses_app = typer.Typer(help="Unfair terms in standard-form contracts.", no_args_is_help=True)
evidence_app = typer.Typer(help="The tamper-evident event log and consumers' evidence bundles.", no_args_is_help=True)
contact_app = typer.Typer(help="Conversations: what customers want, and a human within reach.", no_args_is_help=True)
fairness_app = typer.Typer(help="Fairness figures from the event log.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA policies, calendars and escalations.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Webhooks and the delivery log of every message.", no_args_is_help=True)
surveys_app = typer.Typer(help="Satisfaction surveys and their reports.", no_args_is_help=True)
for sub, name in ((db_app, "db"), (ticket_app, "ticket"), (user_app, "user"), (brand_app, "brand"),
                  (customer_app, "customer"), (regions_app, "regions"), (network_app, "network"),
                  (plans_app, "plans"), (channels_app, "channels"), (clauses_app, "clauses"),
                  (evidence_app, "evidence"), (contact_app, "contact"),
                  (fairness_app, "fairness"), (sla_app, "sla"), (webhooks_app, "webhooks"),
                  (surveys_app, "surveys")):
    app.add_typer(sub, name=name)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
BrandOpt = Annotated[str, typer.Option("--brand", help="Brand code.")]
AsOpt = Annotated[str | None, typer.Option("--as", help="Act as this user (default: an operator with "
                                                        "manager rights for the brand).")]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(str(exc))


@contextmanager
def reasons() -> Iterator[None]:
    """Domain errors become `error: <code>: <detail>` and exit status 2, never a traceback."""
    try:
        yield
    except DomainError as exc:
        fail(f"{exc.code}: {exc.detail}" if exc.detail else exc.code)


def _wired() -> App:
    """Settings for commands that only touch the database: they sign nothing, so need no secret key."""
    no_secret = not os.environ.get("FAIRDESK_SECRET_KEY")
    return bootstrap(_settings(demo=True) if no_secret else _settings())


def _actor(wired: App, brand_code: str, as_user: str | None) -> Actor:
    with wired.uows(readonly=True) as uow:
        brand = uow.brands.by_code(brand_code)
        if brand is None:
            raise NotFound("brand.not_found", f"no brand {brand_code!r}")
        if as_user is None:
            return Actor(brand_id=brand.id, role=Role.MANAGER, label=f"cli:{getpass.getuser()}")
        user = uow.users.by_username(as_user)
        if user is None or user.brand_id != brand.id:
            raise NotFound("user.not_found", f"no user {as_user!r} in brand {brand_code!r}")
        return identity.actor_for(user)


def _texts(given: list[str] | None) -> Iterator[str]:
    """The texts given as arguments or, when none, standard input line by line (for pipelines)."""
    yield from given if given else (line.rstrip("\r\n") for line in sys.stdin)


def _emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def _ticket_dict(ticket: Ticket, wired: App) -> dict[str, Any]:
    tz = wired.clock.tz
    return {"id": ticket.id, "number": ticket.number, "status": ticket.status.value,
            "category": ticket.category.value, "priority": ticket.priority.value,
            "channel": ticket.channel.value, "subject": ticket.subject, "customer_id": ticket.customer_id,
            "unit_id": ticket.unit_id, "created_at": ticket.created_at.astimezone(tz).isoformat(),
            "updated_at": ticket.updated_at.astimezone(tz).isoformat()}


# --- serving -----------------------------------------------------------------------------------------

@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
          workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
          log_level: Annotated[str, typer.Option()] = "warning") -> None:
    """Serve the API and the web pages (configure with FAIRDESK_* variables)."""
    import uvicorn

    settings = _settings()  # refuse to start on a bad configuration, before forking workers
    from fairdesk.adapters.db.migrate import current_revision, head_revision

    if current_revision(settings.database_url) != head_revision(settings.database_url):
        fail("the database schema is not up to date: run `fairdesk db upgrade` first")
    uvicorn.run("fairdesk.entrypoints.asgi:make_app", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, access_log=False, proxy_headers=False)


@app.command()
def demo(port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
         host: Annotated[str, typer.Option()] = "127.0.0.1",
         directory: Annotated[Path, typer.Option("--dir", help="Where the demo database lives.")] = Path("."),
         no_serve: Annotated[bool, typer.Option("--no-serve", help="Only create the demo data.")] = False,
         at: Annotated[str | None, typer.Option(
             "--at", help="Run the demo's clock from this moment (ISO 8601; without an offset, Asia/Shanghai), "
                          "e.g. 2026-12-02T07:00 to rehearse a working morning.")] = None,
         ) -> None:
    """Create a SQLite demo database with a demo brand, users for every role and tickets, then serve it."""
    from fairdesk.adapters.db.migrate import upgrade
    from fairdesk.entrypoints.cli.demo_data import DEMO_PASSWORDS, load_demo

    if at is not None:
        from datetime import UTC, datetime

        from fairdesk.services.clock import SHANGHAI

        try:
            start = datetime.fromisoformat(at)
        except ValueError:
            fail(f"--at: {at!r} is not an ISO 8601 date and time, e.g. 2026-12-02T07:00")
        start = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)
        os.environ["FAIRDESK_DEMO_CLOCK_OFFSET_S"] = str((start - datetime.now(UTC)).total_seconds())
    directory.mkdir(parents=True, exist_ok=True)
    db_path = (directory / "fairdesk-demo.db").resolve()
    secret_file = directory / ".fairdesk-demo-secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    os.environ.update(FAIRDESK_DATABASE_URL=f"sqlite:///{db_path}", FAIRDESK_DEMO="true",
                      FAIRDESK_SECRET_KEY=secret_file.read_text().strip(), FAIRDESK_LOG_FORMAT="console",
                      FAIRDESK_PUBLIC_URL=f"http://{host}:{port}", FAIRDESK_WEBHOOK_ALLOW_PRIVATE="true")
    # The demo's "inbox" and "phone": e-mails into a Maildir, SMS as JSON lines, both beside the database.
    os.environ.setdefault("FAIRDESK_MAILDIR", str((directory / "demo-mail").resolve()))
    os.environ.setdefault("FAIRDESK_SMS_FILE", str((directory / "demo-sms.jsonl").resolve()))
    settings = _settings()
    upgrade(settings.database_url)
    wired = bootstrap(settings)
    created = load_demo(wired)
    typer.echo(f"demo database: {db_path} ({'created' if created else 'already there'})")
    typer.echo(f"open http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    typer.echo("demo users (username / password):")
    for username, (role, password) in DEMO_PASSWORDS.items():
        typer.echo(f"  {role:<11} {username:<16} {password}")
    if not no_serve:
        import subprocess

        import uvicorn

        typer.echo(f"worker: e-mails to {os.environ['FAIRDESK_MAILDIR']}, SMS to {os.environ['FAIRDESK_SMS_FILE']}")
        # The worker goes when the demo goes, even when the demo is killed without a goodbye (Linux).
        background = subprocess.Popen([sys.executable, "-m", "fairdesk", "worker"],
                                      preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        try:
            uvicorn.run("fairdesk.entrypoints.asgi:make_app", factory=True, host=host, port=port,
                        log_level="warning")
        finally:
            background.terminate()
            background.wait(timeout=10)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database (FAIRDESK_DATABASE_URL) to the newest schema."""
    from fairdesk.adapters.db.migrate import current_revision, upgrade

    url = _wired().settings.database_url
    try:
        upgrade(url, revision)
    except Exception as exc:
        fail(f"migration failed: {type(exc).__name__}: {exc}".splitlines()[0])
    typer.echo(f"database at revision {current_revision(url)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one."""
    from fairdesk.adapters.db.migrate import current_revision, head_revision

    url = _wired().settings.database_url
    typer.echo(f"current {current_revision(url)} head {head_revision(url)}")


# --- brands, users, customers ------------------------------------------------------------------------

@brand_app.command("create")
def brand_create(code: str, name: str, prefix: Annotated[str, typer.Option()] = "FD",
                 as_json: JsonOpt = False) -> None:
    """Create a brand."""
    wired = _wired()
    with reasons():
        brand = identity.create_brand(wired.uows(), wired.clock, code=code, name=name, ticket_prefix=prefix)
    _emit(as_json, {"id": brand.id, "code": brand.code, "name": brand.name},
          lambda: typer.echo(f"brand {brand.code} created (id {brand.id})"))


@brand_app.command("registration")
def brand_registration(brand: BrandOpt, legal_name: Annotated[str, typer.Option(help="名称 on the business licence.")],
                       address: Annotated[str, typer.Option(help="住所: the full registered address.")],
                       as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Set the brand's registered name and full address, which complaint case files name."""
    wired = _wired()
    with reasons():
        b = identity.set_registration(wired.uows(), _actor(wired, brand, as_user), wired.clock,
                                      legal_name=legal_name, address=address)
    _emit(as_json, {"code": b.code, "legal_name": b.legal_name, "registered_address": b.registered_address},
          lambda: typer.echo(f"{b.code}: {b.legal_name}, {b.registered_address}"))


@user_app.command("create")
def user_create(username: str, brand: BrandOpt,
                role: Annotated[Role, typer.Option(case_sensitive=False)],
                display_name: Annotated[str | None, typer.Option("--name")] = None,
                customer: Annotated[int | None, typer.Option(help="Customer id, for a customer user.")] = None,
                password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                             help="Read the password from stdin.")] = False,
                language: Annotated[str, typer.Option()] = "zh-CN",
                as_json: JsonOpt = False) -> None:
    """Create a user; the password is read from stdin (--password-stdin) or prompted for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        fail("give the password with --password-stdin")
    wired = _wired()
    with reasons():
        user = identity.create_user(identity.CreateUser(
            brand_code=brand, username=username, display_name=display_name or username, role=role,
            password=password, customer_id=customer, language=language), wired.uows(), wired.clock)
    _emit(as_json, {"id": user.id, "username": user.username, "role": user.role.value},
          lambda: typer.echo(f"user {user.username} ({user.role.value}) created"))


@user_app.command("token")
def user_token(username: str, name: Annotated[str, typer.Option()] = "cli") -> None:
    """Issue an API token for a user and print it (it is shown only once)."""
    wired = _wired()
    with reasons():
        typer.echo(identity.issue_token(wired.uows(), wired.clock, username, name))


@customer_app.command("create")
def customer_create(brand: BrandOpt, name: Annotated[str, typer.Option()],
                    phone: Annotated[list[str], typer.Option(help="Phone number (repeatable).")],
                    address: Annotated[list[str] | None, typer.Option(help="Address (repeatable).")] = None,
                    as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Record a customer."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        c = customer_svc.create_customer(customer_svc.CreateCustomer(actor, name, phone, address or []),
                                         wired.uows(), wired.clock)
    _emit(as_json, {"id": c.id, "name": c.name, "phones": [p.e164 for p in c.phones]},
          lambda: typer.echo(f"customer {c.id} {c.name} created"))


# --- tickets -----------------------------------------------------------------------------------------

@ticket_app.command("create")
def ticket_create(brand: BrandOpt, customer: Annotated[int, typer.Option(min=1)],
                  subject: Annotated[str, typer.Option()],
                  category: Annotated[Category, typer.Option(case_sensitive=False)] = Category.REPAIR,
                  description: Annotated[str, typer.Option()] = "",
                  priority: Annotated[Priority, typer.Option(case_sensitive=False)] = Priority.NORMAL,
                  channel: Annotated[Channel, typer.Option(case_sensitive=False)] = Channel.HOTLINE,
                  unit: Annotated[int | None, typer.Option(min=1)] = None,
                  idempotency_key: Annotated[str | None, typer.Option()] = None,
                  as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Open a ticket and print its number."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        ticket, replayed = ticket_svc.open_ticket(ticket_svc.OpenTicket(
            actor=actor, customer_id=customer, channel=channel, category=category, subject=subject,
            description=description, priority=priority, unit_id=unit), wired.uows, wired.clock,
            idempotency_key)
    _emit(as_json, _ticket_dict(ticket, wired) | {"replayed": replayed},
          lambda: typer.echo(f"{ticket.number} (id {ticket.id}) {'replayed' if replayed else 'created'}"))


@ticket_app.command("list")
def ticket_list(brand: BrandOpt,
                status: Annotated[Status | None, typer.Option(case_sensitive=False)] = None,
                category: Annotated[Category | None, typer.Option(case_sensitive=False)] = None,
                customer: Annotated[int | None, typer.Option(min=1)] = None,
                limit: Annotated[int, typer.Option(min=1, max=ticket_svc.MAX_PAGE)] = 50,
                before: Annotated[int | None, typer.Option(min=1, help="Only ids below this.")] = None,
                as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """List tickets, newest first."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        rows = ticket_svc.list_tickets(wired.uows(readonly=True), actor,
                                       TicketFilter(status=status, category=category, customer_id=customer),
                                       before_id=before, limit=limit)

    def human() -> None:
        for tk in rows:
            typer.echo(f"{tk.id:>8}  {tk.number}  {tk.status.value:<16} {tk.category.value:<13} {tk.subject}")

    _emit(as_json, [_ticket_dict(tk, wired) for tk in rows], human)


def _find_ticket_id(wired: App, actor: Actor, ref: str) -> int:
    if ref.isdigit():
        return int(ref)
    with wired.uows(readonly=True) as uow:
        ticket = uow.tickets.by_number(actor.brand_id, ref)
    if ticket is None:
        raise NotFound("ticket.not_found", f"no ticket {ref}")
    return ticket.id


@ticket_app.command("show")
def ticket_show(ref: Annotated[str, typer.Argument(help="Ticket id or number.")], brand: BrandOpt,
                as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Show a ticket and its whole history."""
    wired = _wired()
    tz = wired.clock.tz
    with reasons():
        actor = _actor(wired, brand, as_user)
        ticket, events = ticket_svc.ticket_history(wired.uows(readonly=True), actor,
                                                   _find_ticket_id(wired, actor, ref))
    history = [{"at": e.at.astimezone(tz).isoformat(), "kind": e.kind.value, "actor": e.actor,
                "from": e.from_status.value if e.from_status else None,
                "to": e.to_status.value if e.to_status else None, "note": e.note} for e in events]

    def human() -> None:
        typer.echo(f"{ticket.number}  {ticket.subject}\nstatus {ticket.status.value}  category "
                   f"{ticket.category.value}  priority {ticket.priority.value}  channel {ticket.channel.value}")
        for h in history:
            move = f"{h['from'] or ''} -> {h['to']}" if h["to"] else ""
            typer.echo(f"  {h['at']}  {h['kind']:<10} {move:<28} {h['actor']}  {h['note']}")

    _emit(as_json, _ticket_dict(ticket, wired) | {"events": history}, human)


@ticket_app.command("move")
def ticket_move(ref: Annotated[str, typer.Argument(help="Ticket id or number.")],
                to: Annotated[Status, typer.Argument(case_sensitive=False)], brand: BrandOpt,
                note: Annotated[str, typer.Option()] = "", as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Move a ticket to another state (the allowed moves are the state machine's table)."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        ticket = ticket_svc.move_ticket(ticket_svc.MoveTicket(actor, _find_ticket_id(wired, actor, ref), to, note),
                                        wired.uows(), wired.clock, public_url=wired.settings.public_url)
    _emit(as_json, _ticket_dict(ticket, wired),
          lambda: typer.echo(f"{ticket.number} is now {ticket.status.value}"))


@ticket_app.command("comment")
def ticket_comment(ref: Annotated[str, typer.Argument(help="Ticket id or number.")], text: str,
                   brand: BrandOpt, as_user: AsOpt = None) -> None:
    """Add a comment to a ticket's history."""
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        ticket_svc.comment_ticket(ticket_svc.Comment(actor, _find_ticket_id(wired, actor, ref), text),
                                  wired.uows(), wired.clock)
    typer.echo("comment added")


# --- regions ------------------------------------------------------------------------------------------

@regions_app.command("resolve")
def regions_resolve(texts: Annotated[list[str] | None, typer.Argument(help="Addresses or place names; "
                                                                       "none: read stdin, one per line.")] = None,
                    as_json: JsonOpt = False) -> None:
    """Resolve place names or addresses to the deepest official division they prove."""
    from fairdesk.reference.regions_data import default_resolver

    resolver = default_resolver()
    for text in _texts(texts):
        r = resolver.resolve(text)
        if as_json:
            typer.echo(json.dumps(r.as_dict(), ensure_ascii=False))
        elif r.adcode:
            chain = "".join(x for x in (r.province, r.city, r.county, r.township) if x)
            typer.echo(f"{text}\t{r.adcode}\t{chain}\t{r.level}\t{r.confidence}")
        elif r.candidates:
            typer.echo(f"{text}\t?\t" + " | ".join(f"{c['adcode']} {c['name']}" for c in r.candidates))
        else:
            typer.echo(f"{text}\t-\tunknown")


# --- network ------------------------------------------------------------------------------------------

@network_app.command("outlet-create")
def outlet_create(brand: BrandOpt, code: Annotated[str, typer.Option()], name: Annotated[str, typer.Option()],
                  address: Annotated[str, typer.Option()], hotline: Annotated[str, typer.Option()] = "",
                  hours: Annotated[str, typer.Option(help="Opening hours, as text.")] = "",
                  lat: Annotated[float | None, typer.Option(min=-90, max=90)] = None,
                  lon: Annotated[float | None, typer.Option(min=-180, max=180)] = None,
                  as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Open a service outlet."""
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import network as network_svc

    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        o = network_svc.create_outlet(network_svc.CreateOutlet(actor, code, name, address, hotline, hours, lat, lon),
                                      wired.uows(), wired.clock, default_resolver())
    _emit(as_json, {"id": o.id, "code": o.code, "adcode": o.adcode},
          lambda: typer.echo(f"outlet {o.code} created at {o.adcode or 'an undecided division'}"))


@network_app.command("outlet-hours")
def outlet_hours(brand: BrandOpt, code: Annotated[str, typer.Option()],
                 shifts: Annotated[str, typer.Option(help="e.g. 08:30-12:00,13:30-18:00; empty clears the hours.")],
                 weekdays: Annotated[str, typer.Option(help="ISO weekdays, e.g. 1-6.")] = "1-7",
                 holidays_open: Annotated[bool, typer.Option("--holidays-open", help="Open on statutory "
                                                                                      "holidays.")] = False,
                 as_user: AsOpt = None) -> None:
    """Set an outlet's opening hours: no visit is offered outside them."""
    from fairdesk.services import network as network_svc

    wired = _wired()
    with reasons():
        out = network_svc.set_outlet_hours(_actor(wired, brand, as_user), code, shifts, weekdays, not holidays_open,
                                           wired.uows(), wired.clock)
    typer.echo(f"outlet {code}: {out['shifts'] or 'no hours set'} on {out['weekdays']}"
               f"{', closed on statutory holidays' if out['closed_on_holidays'] else ''}")


@network_app.command("outlet-closure")
def outlet_closure(brand: BrandOpt, code: Annotated[str, typer.Option()],
                   day: Annotated[str, typer.Option(help="The day, e.g. 2026-12-24.")],
                   reason: Annotated[str, typer.Option()], as_user: AsOpt = None) -> None:
    """Close an outlet for a day: no visit of its technicians is offered that day."""
    from datetime import date

    from fairdesk.services import network as network_svc

    try:
        when = date.fromisoformat(day)
    except ValueError:
        fail(f"--day: {day!r} is not a day like 2026-12-24")
    wired = _wired()
    with reasons():
        network_svc.add_outlet_closure(_actor(wired, brand, as_user), code, when, reason, wired.uows(), wired.clock)
    typer.echo(f"outlet {code} closed on {when.isoformat()}")


@network_app.command("import-areas")
def import_areas(file: Annotated[Path, typer.Argument(help="The published list: names separated by 、 or lines.")],
                 brand: BrandOpt, outlet: Annotated[str, typer.Option(help="Outlet code.")],
                 dry_run: Annotated[bool, typer.Option("--dry-run", help="Report only.")] = False,
                 as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Import an outlet's coverage from a published list; print what became of every name."""
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import network as network_svc

    try:
        text = file.read_bytes()[: 5_000_001].decode("utf-8-sig")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text")
    if len(text) > 5_000_000:
        fail(f"{file} is larger than 5 MB")
    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        report = network_svc.import_areas(actor, outlet, text, wired.uows(), default_resolver(), dry_run=dry_run)

    def human() -> None:
        typer.echo(f"{report.total} names: {len(report.resolved)} resolved, {len(report.duplicates)} duplicates, "
                   f"{len(report.ambiguous)} ambiguous, {len(report.unknown)} unknown, "
                   f"{len(report.review)} held for review; {report.imported} new coverage codes "
                   f"{'would be imported (dry run)' if dry_run else 'imported'}")
        for n, c in report.duplicates:
            typer.echo(f"  duplicate  {n}  {c}")
        for n, cands in report.ambiguous:
            typer.echo(f"  ambiguous  {n}  -> {' | '.join(cands)}")
        for n in report.unknown:
            typer.echo(f"  unknown    {n}")
        for n, c, level, conf in report.review:
            typer.echo(f"  review     {n}  {c} ({level}, confidence {conf})")

    _emit(as_json, report.as_dict(), human)


@network_app.command("route")
def network_route(address: str, brand: BrandOpt, as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Which outlets serve an address, best first."""
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import network as network_svc

    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        found = network_svc.route_address(wired.uows(readonly=True), actor, address, default_resolver())
    rows = [{"code": o.code, "name": o.name, "hotline": o.hotline, "matched_adcode": r.matched_code,
             "specificity": r.specificity} for r, o in found.outlets]

    def human() -> None:
        res = found.resolution
        typer.echo(f"{address} -> {res.adcode or 'undecided'} "
                   f"{''.join(x for x in (res.province, res.city, res.county, res.township) if x)}")
        for row in rows:
            typer.echo(f"  {row['code']:<12} {row['name']}  (covers {row['matched_adcode']})")
        if not rows:
            typer.echo("  no outlet covers this address")

    _emit(as_json, {"resolution": found.resolution.as_dict(), "outlets": rows}, human)


@network_app.command("gaps")
def network_gaps(brand: BrandOpt, province: Annotated[str | None, typer.Option()] = None,
                 as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Counties no outlet covers, per province."""
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import network as network_svc

    wired = _wired()
    with reasons():
        actor = _actor(wired, brand, as_user)
        report = network_svc.network_gaps(wired.uows(readonly=True), actor, default_resolver(), province)
    data = [{"province": g.province, "counties": g.counties, "covered": g.covered, "partial": len(g.partial),
             "uncovered": [n for _, n in g.uncovered]} for g in report]

    def human() -> None:
        for g in report:
            typer.echo(f"{g.province:<10} {g.covered:>4}/{g.counties:<4} covered, {len(g.partial)} partly, "
                       f"{len(g.uncovered)} not covered")

    _emit(as_json, data, human)


# --- plans --------------------------------------------------------------------------------------------

def _read_catalogue(file: Path):  # type: ignore[no-untyped-def]
    from fairdesk.adapters import killbill

    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    with reasons():
        return killbill.parse(data)


@plans_app.command("lint")
def plans_lint(file: Annotated[Path, typer.Argument(help="A Kill Bill catalogue (XML).")],
               as_json: JsonOpt = False) -> None:
    """Exit 0 when the catalogue has one rule for upgrades, downgrades and cancellation; 1 otherwise,
    naming every pair or plan that breaks it (2: the file cannot be read)."""
    from fairdesk.adapters import killbill

    findings = killbill.lint(_read_catalogue(file))
    if as_json:
        typer.echo(json.dumps({"findings": [f.as_dict() for f in findings]}, ensure_ascii=False))
    elif findings:
        for f in findings:
            typer.echo(f"{f.rule:<20} {f.subject:<40} {f.phase:<10} {f.detail}")
    else:
        typer.echo("ok: one rule for every change and for cancellation")
    raise typer.Exit(1 if findings else 0)


@plans_app.command("quote")
def plans_quote(from_price: Annotated[str, typer.Option(help="What was paid for the period, e.g. 10.00")],
                period_start: Annotated[str, typer.Option(help="ISO 8601 with offset")],
                period_end: Annotated[str, typer.Option(help="ISO 8601 with offset")],
                at: Annotated[str, typer.Option(help="When the change happens, ISO 8601 with offset")],
                to_price: Annotated[str | None, typer.Option(help="The new plan's price per period")] = None,
                cancel: Annotated[bool, typer.Option("--cancel", help="Quote a cancellation")] = False,
                as_json: JsonOpt = False) -> None:
    """What an immediate change would cost now: credit for the unused part, charge for the rest, net
    (positive: the customer pays; negative: the customer gets money back)."""
    from datetime import datetime

    from fairdesk.domain.plans import ChangeKind, ChangePolicy, money, quote_change

    if (to_price is None) == (not cancel):
        fail("give --to-price, or --cancel")

    def when(text: str, name: str) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            fail(f"{name}: not an ISO 8601 time: {text!r}")
        if value.tzinfo is None:
            fail(f"{name}: give a UTC offset, e.g. {text}+08:00")
        return value

    with reasons():
        paid, new = money(from_price, "--from-price"), (money(to_price, "--to-price") if to_price else None)
        q = quote_change(paid=paid, new_price=new, period_start=when(period_start, "--period-start"),
                         period_end=when(period_end, "--period-end"), at=when(at, "--at"),
                         policy=ChangePolicy.IMMEDIATE,
                         kind=ChangeKind.CANCEL if new is None else ChangeKind.LATERAL)
    data = {"credit": f"{q.credit:.2f}", "charge": f"{q.charge:.2f}", "net": f"{q.net:.2f}",
            "effective_at": q.effective_at.isoformat(), "policy": q.policy.value,
            "lines": [{"kind": ln.kind, "description": ln.description, "amount": f"{ln.amount:.2f}"} for ln in q.lines]}
    _emit(as_json, data, lambda: typer.echo(f"credit {data['credit']}  charge {data['charge']}  net {data['net']}"))


@plans_app.command("import")
def plans_import(file: Annotated[Path, typer.Argument(help="A Kill Bill catalogue (XML).")], brand: BrandOpt,
                 normalise: Annotated[bool, typer.Option("--normalise", help="Give every change and "
                                                         "cancellation the rule upgrades had.")] = False,
                 as_user: AsOpt = None) -> None:
    """Import a catalogue; an asymmetric one is refused unless --normalise (which says what it changed)."""
    from fairdesk.adapters import killbill
    from fairdesk.domain.plans import Catalogue
    from fairdesk.services import plans as plans_svc

    cat = _read_catalogue(file)
    wired = _wired()
    with reasons():
        conv = killbill.to_families(cat, normalise=normalise)
        families, plans = plans_svc.import_catalogue(_actor(wired, brand, as_user),
                                                     Catalogue(conv.families, conv.plans), wired.uows())
    for line in conv.changes:
        typer.echo(f"normalised: {line}")
    typer.echo(f"imported {families} families, {plans} plans")


@plans_app.command("change")
def plans_change(subscription: Annotated[int, typer.Argument(min=1)], brand: BrandOpt,
                 to: Annotated[str | None, typer.Option("--to", help="The plan to change to.")] = None,
                 cancel: Annotated[bool, typer.Option("--cancel")] = False,
                 preview: Annotated[bool, typer.Option("--preview", help="Show, change nothing.")] = False,
                 channel: Annotated[str, typer.Option()] = "hotline",
                 as_user: AsOpt = None, as_json: JsonOpt = False) -> None:
    """Change a subscription up, down (--to PLAN) or out (--cancel): one command, one rule."""
    from fairdesk.services import plans as plans_svc

    if (to is None) == (not cancel):
        fail("give --to PLAN, or --cancel")
    wired = _wired()
    with reasons():
        result = plans_svc.change_subscription(plans_svc.ChangeSubscription(
            _actor(wired, brand, as_user), subscription, to, preview, channel), wired.uows, wired.clock)
    q = result.quote
    data = {"kind": q.kind.value, "policy": q.policy.value,
            "effective_at": q.effective_at.astimezone(wired.clock.tz).isoformat(),
            "net": f"{q.net:.2f}", "lines": [{"kind": ln.kind, "amount": f"{ln.amount:.2f}",
                                               "description": ln.description} for ln in q.lines],
            "save_offer": result.save_offer, "receipt": result.receipt}

    def human() -> None:
        typer.echo(f"{q.kind.value} ({q.policy.value}), effective {q.effective_at.astimezone(wired.clock.tz)}, "
                   f"net {q.net:.2f}{' — preview only' if preview else ''}")
        for ln in q.lines:
            typer.echo(f"  {ln.amount:>10.2f}  {ln.description}")

    _emit(as_json, data, human)


@plans_app.command("renewals")
def plans_renewals(as_json: JsonOpt = False) -> None:
    """Renew or end every subscription whose period is over; record reminders for renewals due soon."""
    from fairdesk.services import plans as plans_svc

    wired = _wired()
    run = plans_svc.run_renewals(wired.uows, wired.clock)
    data = {"renewed": run.renewed, "ended": run.ended, "reminded": run.reminded, "charged": f"{run.charged:.2f}"}
    _emit(as_json, data, lambda: typer.echo(f"renewed {run.renewed}, ended {run.ended}, reminded {run.reminded}, "
                                            f"charged {run.charged:.2f}"))


# --- channels and clauses -------------------------------------------------------------------------------

def _read_text(file: Path, limit: int) -> str:
    """A UTF-8 text file of at most ``limit`` bytes, or exit 2 saying why not."""
    try:
        with file.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    if len(data) > limit:
        fail(f"{file} is larger than {limit:,} bytes")
    if b"\x00" in data:
        fail(f"{file} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")  # Chinese pages and contracts are often GBK
        except UnicodeDecodeError:
            fail(f"{file} is neither UTF-8 nor GB18030 text")


@channels_app.command("add")
def channels_add(brand: BrandOpt, value: str,
                 kind: Annotated[str, typer.Option(help="phone, website or account")] = "phone",
                 label: Annotated[str, typer.Option()] = "", as_user: AsOpt = None) -> None:
    """Register an official channel of the brand."""
    from fairdesk.domain.channels import ChannelKind
    from fairdesk.services import channels as channels_svc

    if kind not in {k.value for k in ChannelKind}:
        fail("--kind is phone, website or account")
    wired = _wired()
    with reasons():
        normalized = channels_svc.register_channel(_actor(wired, brand, as_user), ChannelKind(kind), value, label,
                                                   wired.uows(), wired.clock)
    typer.echo(f"registered {normalized}")


@channels_app.command("check")
def channels_check(value: str, as_json: JsonOpt = False) -> None:
    """Is this an official service number or website, and whose?"""
    from fairdesk.services import channels as channels_svc

    wired = _wired()
    with reasons():
        r = channels_svc.check_channel(value, wired.uows(readonly=True))
    data = {"value": value, "normalized": r.normalized, "status": r.status.value, "brand": r.brand}
    _emit(as_json, data, lambda: typer.echo(f"{r.normalized}: {r.status.value}" + (f" ({r.brand})" if r.brand else "")))


@channels_app.command("scan")
def channels_scan(file: Annotated[Path, typer.Argument(help="A text or HTML page.")], as_json: JsonOpt = False) -> None:
    """Every phone number on a page, official, unknown or impostor; with --json one object per line."""
    from fairdesk.services import channels as channels_svc

    text = _read_text(file, 5_000_000)
    wired = _wired()
    for r in channels_svc.scan_page(text, wired.uows(readonly=True)):
        if as_json:
            typer.echo(json.dumps(r, ensure_ascii=False))
        else:
            typer.echo(f"{r['normalized']:<16} {r['status']:<9} {r['brand'] or ''}  ({r['number']})")


@clauses_app.command("check")
def clauses_check(file: Annotated[Path, typer.Argument(help="Contract or terms text (UTF-8 or GB18030).")],
                  as_json: JsonOpt = False) -> None:
    """Flag the clauses known to be unfair in standard-form contracts, with their basis and a fair rewrite."""
    from fairdesk.domain.clauses import check
    from fairdesk.reference.clause_rules import default_rules

    findings = check(_read_text(file, 2_000_000), default_rules())
    if as_json:
        typer.echo(json.dumps({"findings": [f.as_dict() for f in findings]}, ensure_ascii=False))
        return
    for f in findings:
        typer.echo(f"[{f.rule}] {f.clause}\n    basis: {f.basis}\n    fair: {f.suggestion}")
    if not findings:
        typer.echo("no unfair clauses found")


# --- evidence -----------------------------------------------------------------------------------------

@evidence_app.command("checkpoint")
def evidence_checkpoint(brand: BrandOpt) -> None:
    """Sign a checkpoint over the entries since the last one."""
    from fairdesk.services import evidence

    wired = _wired()
    with reasons():
        cp = evidence.checkpoint(wired.uows, wired.clock, brand)
    typer.echo(f"signed entries {cp.from_seq + 1}-{cp.to_seq}, root {cp.merkle_root}" if cp else "nothing new to sign")


@evidence_app.command("key")
def evidence_key(brand: BrandOpt) -> None:
    """Print the brand's published checkpoint key (Ed25519, hex)."""
    from fairdesk.services import evidence

    wired = _wired()
    with reasons():
        key = evidence.public_key(wired.uows, brand)
    if key is None:
        fail("the brand has not signed a checkpoint yet: run `fairdesk evidence checkpoint`")
    typer.echo(key)


@evidence_app.command("verify")
def evidence_verify(brand: BrandOpt, as_json: JsonOpt = False) -> None:
    """Check the brand's whole chain and its checkpoints; exit 1 naming where it was edited, deleted,
    reordered or truncated, or a checkpoint forged."""
    from fairdesk.services import evidence

    wired = _wired()
    with reasons():
        problems = evidence.verify_brand(wired.uows, brand)
    if as_json:
        typer.echo(json.dumps({"intact": not problems, "problems": [p.__dict__ for p in problems]},
                              ensure_ascii=False))
    else:
        for p in problems:
            typer.echo(f"{p.kind:<11} at entry {p.seq}: {p.detail}")
        if not problems:
            typer.echo("intact")
    raise typer.Exit(1 if problems else 0)


@evidence_app.command("export")
def evidence_export(brand: BrandOpt, customer: Annotated[int, typer.Option(min=1)],
                    out: Annotated[Path, typer.Option(help="bundle.json, or a .zip with the JSON and a PDF")],
                    as_user: AsOpt = None) -> None:
    """Export everything about a customer with the proofs to verify it offline."""
    import zipfile

    from fairdesk.adapters.pdf import bundle_pdf
    from fairdesk.services import evidence

    wired = _wired()
    with reasons():
        bundle = evidence.export_bundle(wired.uows, wired.clock, _actor(wired, brand, as_user), customer)
    data = json.dumps(bundle, ensure_ascii=False, indent=1).encode()
    if out.suffix == ".zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("bundle.json", data)
            z.writestr("bundle.pdf", bundle_pdf(bundle, names=evidence.display_names(
                wired.uows, _actor(wired, brand, as_user), bundle)))
    else:
        out.write_bytes(data)
    typer.echo(f"{len(bundle['entries'])} entries written to {out}")


@evidence_app.command("verify-bundle")
def evidence_verify_bundle(file: Annotated[Path, typer.Argument(help="bundle.json or the exported .zip")],
                           key: Annotated[str | None, typer.Option(help="The brand's published key (hex).")] = None,
                           as_json: JsonOpt = False) -> None:
    """Verify a bundle offline; exit 0 when intact, 1 when not, 2 when it cannot be read."""
    import zipfile

    from fairdesk.services import evidence

    try:
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as z:
                raw = z.read("bundle.json")
        else:
            raw = file.read_bytes()[:50_000_001]
        bundle = json.loads(raw)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        fail(f"cannot read {file}: {type(exc).__name__}")
    with reasons():
        problems = evidence.verify_bundle(bundle, key)
    if key is None:
        problems_note = "key not pinned: pass --key with the brand's published key to rule out re-signing"
    else:
        problems_note = ""
    if as_json:
        typer.echo(json.dumps({"intact": not problems, "problems": problems, "note": problems_note or None},
                              ensure_ascii=False))
    else:
        for p in problems:
            typer.echo(p)
        typer.echo("intact" if not problems else f"{len(problems)} problem(s)")
        if problems_note:
            typer.echo(f"note: {problems_note}", err=True)
    raise typer.Exit(1 if problems else 0)


# --- contact ------------------------------------------------------------------------------------------

@contact_app.command("intent")
def contact_intent(texts: Annotated[list[str] | None, typer.Argument(help="Messages; none: read stdin, one "
                                                                       "per line.")] = None,
                   as_json: JsonOpt = False) -> None:
    """What each message asks for: human, complaint, refund, cancel, downgrade, upgrade, repair, status, other."""
    from fairdesk.domain.intents import classify
    from fairdesk.reference.intent_rules import default_rules

    rules = default_rules()
    for text in _texts(texts):
        intent, confidence = classify(text, rules)
        if as_json:
            typer.echo(json.dumps({"input": text, "intent": intent.value, "confidence": confidence},
                                  ensure_ascii=False))
        else:
            typer.echo(f"{intent.value:<10} {confidence:.2f}  {text[:80]}")


@fairness_app.command("report")
def fairness_report(brand: BrandOpt, from_: Annotated[str, typer.Option("--from", help="ISO 8601 with offset")],
                    to: Annotated[str, typer.Option("--to", help="ISO 8601 with offset")],
                    as_json: JsonOpt = False,
                    as_csv: Annotated[bool, typer.Option("--csv", help="One row per intent.")] = False,
                    as_user: AsOpt = None) -> None:
    """Time to a person by intent (median, p90) and whether downgrades or cancels wait longer than upgrades."""
    from datetime import datetime

    from fairdesk.services import contact as contact_svc

    try:
        start, end = datetime.fromisoformat(from_), datetime.fromisoformat(to)
    except ValueError:
        fail("--from and --to are ISO 8601 times")
    if start.tzinfo is None or end.tzinfo is None:
        fail("give --from and --to with a UTC offset, e.g. 2026-11-01T00:00:00+08:00")
    wired = _wired()
    with reasons():
        report = contact_svc.fairness_report(wired.uows, _actor(wired, brand, as_user), start, end,
                                             wired.clock.now())
    if as_csv:
        typer.echo("intent,conversations,reached_human,median_s,p90_s")
        for intent, f in report["time_to_human_by_intent"].items():
            typer.echo(f"{intent},{f['conversations']},{f['reached_human']},{f['median_s'] or ''},{f['p90_s'] or ''}")
        return
    _emit(as_json, report, lambda: typer.echo(json.dumps(report, ensure_ascii=False, indent=1)))


# --- background work: worker, SLA, webhooks, outbox, surveys ------------------------------------------

@app.command()
def worker(once: Annotated[bool, typer.Option("--once", help="Run one cycle and print what it did.")] = False,
           poll: Annotated[float | None, typer.Option(min=0.05, max=60, help="Seconds between idle cycles.")] = None,
           ) -> None:
    """Run due SLA escalations, deliver the outbox (e-mail, SMS, webhooks) and periodic jobs until stopped
    (SIGTERM/SIGINT finish the current cycle). Run as many as you like against one PostgreSQL."""
    import signal

    from fairdesk.adapters.db.migrate import current_revision, head_revision
    from fairdesk.services.worker import Worker

    settings = _settings()
    if current_revision(settings.database_url) != head_revision(settings.database_url):
        fail("the database schema is not up to date: run `fairdesk db upgrade` first")
    from fairdesk.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    wired = bootstrap(settings)
    w = Worker(wired.uows, wired.clock, wired.transports(), settings.public_url, poll or settings.worker_poll_s,
               settings.worker_lease_s)
    if once:
        result = w.run_once()
        typer.echo(json.dumps({"sla": vars(result["sla"]), "outbox": vars(result["outbox"]), "jobs": result["jobs"],
                               "runs": result["runs"]},
                              ensure_ascii=False))
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: w.stop.set())
    w.run_forever()


@sla_app.command("policies")
def sla_policies(brand: BrandOpt, as_json: JsonOpt = False) -> None:
    """Every category × priority and the targets, pauses and escalation steps that apply."""
    from fairdesk.services import sla as sla_svc

    wired = _wired()
    with reasons():
        rows = sla_svc.policies(wired.uows(readonly=True), _actor(wired, brand, None), wired.clock)

    def human() -> None:
        for r in rows:
            steps = " ".join(f"{s['percent']}%:{s['action']}" for s in r["escalations"])
            typer.echo(f"{r['category']:<13} {r['priority']:<7} first {r['first_response_min']:>5} min  "
                       f"resolve {r['resolution_min']:>6} min  on-site {r['onsite_min'] or '-':>5}  {steps}"
                       f"{'' if r['configured'] else '  (default)'}")
    _emit(as_json, rows, human)


@sla_app.command("set")
def sla_set(brand: BrandOpt, category: Annotated[Category, typer.Option()],
            priority: Annotated[Priority, typer.Option()],
            first_response: Annotated[int, typer.Option(min=1, help="Minutes of running clock.")],
            resolution: Annotated[int, typer.Option(min=1, help="Minutes of running clock.")],
            onsite: Annotated[int | None, typer.Option(min=1, help="Minutes to arrive on site.")] = None,
            around_the_clock: Annotated[bool, typer.Option("--24x7")] = False,
            escalate: Annotated[list[str] | None, typer.Option(
                help="PERCENT:ACTION[:USER_ID], repeatable, e.g. 75:notify 100:raise_priority 120:reassign:7")] = None,
            outlet_calendar: Annotated[bool, typer.Option(
                "--outlet-calendar", help="On-site and resolution clocks also stop on the outlet's closures.")] = False,
            ) -> None:
    """Set a policy; open tickets it applies to are rescheduled at once."""
    from fairdesk.domain.sla import EscalationAction, EscalationStep
    from fairdesk.services import sla as sla_svc

    steps = []
    for spec in escalate or []:
        parts = spec.split(":")
        try:
            steps.append(EscalationStep(int(parts[0]), EscalationAction(parts[1]),
                                        int(parts[2]) if len(parts) > 2 else None))
        except (ValueError, IndexError):
            fail(f"--escalate {spec!r}: use PERCENT:notify|raise_priority or PERCENT:reassign:USER_ID")
        except DomainError as exc:
            fail(f"{exc.code}: {exc.detail}")
    wired = _wired()
    with reasons():
        n = sla_svc.set_policy(_actor(wired, brand, None), category, priority, first_response, resolution,
                               around_the_clock, wired.uows(), onsite_min=onsite, escalations=steps,
                               clock_=wired.clock, uows=wired.uows, outlet_calendar=outlet_calendar)
    typer.echo(f"policy set; {n} open tickets rescheduled")


@sla_app.command("shifts")
def sla_shifts(brand: BrandOpt, shifts: Annotated[str, typer.Argument(help="e.g. 08:00-12:00,13:00-20:00")]) -> None:
    """Set the brand's working shifts."""
    from fairdesk.services import sla as sla_svc

    wired = _wired()
    with reasons():
        typer.echo(", ".join(sla_svc.set_shifts(_actor(wired, brand, None), shifts, wired.uows(), wired.clock)))


@sla_app.command("sweep")
def sla_sweep() -> None:
    """Fire every due escalation step now (the worker does this continuously)."""
    from fairdesk.services import sla as sla_svc

    wired = _wired()
    typer.echo(json.dumps(vars(sla_svc.sweep(wired.uows, wired.clock, public_url=wired.settings.public_url))))


@webhooks_app.command("add")
def webhooks_add(brand: BrandOpt, url: str,
                 events: Annotated[list[str] | None, typer.Option("--event", help="Repeatable; none: all.")] = None,
                 as_json: JsonOpt = False) -> None:
    """Register a webhook endpoint; prints its signing secret once."""
    from fairdesk.services import webhooks as webhook_svc

    wired = _wired()
    with reasons():
        hook = webhook_svc.add_webhook(wired.uows(), _actor(wired, brand, None), url, events or [], wired.clock,
                                       allow_private=wired.settings.webhook_allow_private)
    _emit(as_json, hook, lambda: typer.echo(f"webhook {hook['id']} → {hook['url']}\nsecret: {hook['secret']}"))


@webhooks_app.command("log")
def webhooks_log(brand: BrandOpt, status: Annotated[str | None, typer.Option()] = None,
                 limit: Annotated[int, typer.Option(min=1, max=500)] = 50, as_json: JsonOpt = False) -> None:
    """The outbox and its delivery attempts (e-mail, SMS, webhooks), newest first."""
    from fairdesk.services import webhooks as webhook_svc

    wired = _wired()
    with reasons():
        rows = webhook_svc.outbox_page(wired.uows(readonly=True), _actor(wired, brand, None), status=status,
                                       limit=limit)

    def human() -> None:
        for r in rows:
            typer.echo(f"{r['id']:>6} {r['status']:<7} {r['transport']:<7} {r['kind']:<18} tries {r['attempts']}  "
                       f"{r['recipient']}  {r['last_error']}")
    _emit(as_json, rows, human)


@surveys_app.command("report")
def surveys_report(brand: BrandOpt, group: Annotated[str, typer.Option(help="brand|outlet|technician|"
                                                                              "product_line")] = "brand",
                   from_: Annotated[str | None, typer.Option("--from", help="Month, e.g. 2026-01")] = None,
                   to: Annotated[str | None, typer.Option(help="Month, e.g. 2026-12")] = None,
                   as_csv: Annotated[bool, typer.Option("--csv")] = False, as_json: JsonOpt = False) -> None:
    """CSAT, NPS and response rate per group and month."""
    from fairdesk.services import surveys as survey_svc

    wired = _wired()
    with reasons():
        rows = survey_svc.report(wired.uows(readonly=True), _actor(wired, brand, None), group, from_, to)
    if as_csv:
        typer.echo(survey_svc.report_csv(rows).lstrip("\ufeff"), nl=False)
        return

    def human() -> None:
        typer.echo(f"{'key':<16} {'month':<8} {'sent':>5} {'answered':>8} {'rate':>6} {'CSAT':>5} {'NPS':>6}")
        for r in rows:
            nps = "-" if r["nps"] is None else r["nps"]
            typer.echo(f"{r['key']!s:<16} {r['period']:<8} {r['sent']:>5} {r['answered']:>8} "
                       f"{r['response_rate'] or 0:>6.0%} {r['csat_mean'] or '-':>5} {nps:>6}")
    _emit(as_json, rows, human)


# The field's commands live in their own module and register themselves on `app`.
from fairdesk.entrypoints.cli import calendars as _calendars  # noqa: E402, F401
from fairdesk.entrypoints.cli import complaints as _complaints  # noqa: E402, F401
from fairdesk.entrypoints.cli import field as _field  # noqa: E402, F401


def main() -> None:  # pragma: no cover - console entry point
    app()
