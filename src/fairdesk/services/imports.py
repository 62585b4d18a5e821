"""Bulk import of technicians, certificates and stock from CSV or Excel (.xlsx), with a report per row.

Every row runs in a savepoint of one transaction, through the same rules as the API. By default a file with
any bad row changes nothing (the report says what to fix); ``partial`` keeps the good rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fairdesk.domain.errors import DomainError, InvalidInput
from fairdesk.domain.evidence import EvidenceKind
from fairdesk.domain.parts import MovementKind, validate_quantity
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.workforce import Certification
from fairdesk.services import evidence, workforce
from fairdesk.services import parts as parts_svc
from fairdesk.services.access import require_role
from fairdesk.services.clock import Clock
from fairdesk.services.ports import UnitOfWork

__all__ = ["KINDS", "ImportReport", "import_rows", "read_table", "require_importer"]

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"

COLUMNS = {
    "technicians": (("username", "display_name", "outlet_code"),
                    ("shifts", "weekdays", "holidays_off", "home_latitude", "home_longitude", "max_visits_per_day",
                     "email")),
    "certifications": (("username", "product_line", "level", "valid_from", "valid_to"), ("number",)),
    "stock": (("location", "sku", "qty"), ("serials", "reorder_point", "reorder_qty")),
}
KINDS = tuple(COLUMNS)

#: The largest spreadsheet accepted over HTTP (the API's usual body limit is 1 MB).
MAX_IMPORT = 10 * 1024 * 1024


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    imported: int = 0
    applied: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "imported": self.imported, "applied": self.applied,
                "errors": self.errors}


def read_table(data: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030 as Excel in China saves it) or of the first
    sheet of an .xlsx, keyed by the header row (lower-cased, trimmed)."""
    if len(data) > MAX_BYTES:
        raise InvalidInput("import.too_large", f"a file is at most {MAX_BYTES // 1024 // 1024} MB")
    if not data.strip():
        raise InvalidInput("import.empty", "the file is empty")
    rows = _xlsx(data) if data.startswith(XLSX_MAGIC) else _csv(data)
    try:
        header = [str(h or "").strip().lower() for h in next(rows)]
    except StopIteration:
        raise InvalidInput("import.empty", "the file has no header row") from None
    out = []
    for values in rows:
        cells = ["" if v is None else str(v).strip() for v in values]
        if not any(cells):
            continue
        out.append({h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h})
        if len(out) > MAX_ROWS:
            raise InvalidInput("import.too_many_rows", f"at most {MAX_ROWS} rows per file")
    return out


def _csv(data: bytes) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput("import.encoding", "save the CSV as UTF-8")
    return iter(list(csv.reader(io.StringIO(text))))


def _xlsx(data: bytes) -> Iterator[list[Any]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput("import.bad_xlsx", f"not a readable .xlsx file ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return iter([[_cell(v) for v in r] for r in rows])


def _cell(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in ("", "1", "true", "yes", "y", "是"):
        return True
    if low in ("0", "false", "no", "n", "否"):
        return False
    raise InvalidInput("import.bool", f"{name}: {text!r} is not yes/no", field=name)


def _int(text: str, name: str, default: int | None = None) -> int:
    if not text and default is not None:
        return default
    if not text.strip().lstrip("-").isdigit():
        raise InvalidInput("import.int", f"{name}: {text!r} is not a whole number", field=name)
    return int(text)


def _float(text: str, name: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput("import.number", f"{name}: {text!r} is not a number", field=name) from None


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise InvalidInput("import.date", f"{name}: {text!r} is not a date like 2026-12-31", field=name) from None


def _technician(uow: UnitOfWork, actor: Actor, row: dict[str, str], now: datetime) -> None:
    workforce.add_in(uow, workforce.AddTechnician(
        actor, row["username"], row["display_name"], row["outlet_code"], shifts=row.get("shifts") or "09:00-18:00",
        weekdays=row.get("weekdays") or "1-5", holidays_off=_bool(row.get("holidays_off", ""), "holidays_off"),
        home_latitude=_float(row.get("home_latitude", ""), "home_latitude"),
        home_longitude=_float(row.get("home_longitude", ""), "home_longitude"),
        max_visits_per_day=_int(row.get("max_visits_per_day", ""), "max_visits_per_day", 6),
        email=row.get("email") or None), now)


def _certification(uow: UnitOfWork, actor: Actor, row: dict[str, str], now: datetime) -> None:
    user = uow.users.by_username(row["username"])
    tech = uow.technicians.get(actor.brand_id, user.id) if user is not None else None
    if tech is None:
        raise InvalidInput("technician.not_found", f"no technician {row['username']!r}", field="username")
    cert = Certification(tech.user_id, actor.brand_id, row["product_line"], _int(row["level"], "level"),
                         _date(row["valid_from"], "valid_from"), _date(row["valid_to"], "valid_to"),
                         row.get("number", ""))
    uow.technicians.add_certification(cert, now)


def _stock(uow: UnitOfWork, actor: Actor, row: dict[str, str], now: datetime) -> None:
    loc = uow.stock.location(actor.brand_id, code=row["location"])
    if loc is None:
        raise InvalidInput("stock.location_not_found", f"no stock location {row['location']!r}", field="location")
    part = uow.stock.part(actor.brand_id, sku=row["sku"])
    if part is None:
        raise InvalidInput("part.not_found", f"no part {row['sku']!r}", field="sku")
    qty = validate_quantity(row["qty"])
    serials = parts_svc.serials_for(part, qty, [s for s in row.get("serials", "").replace(";", ",").split(",")])
    if serials and uow.stock.serials(actor.brand_id, part.id, serials):
        raise InvalidInput("stock.serial_exists", "a serial number in this row is already recorded", field="serials")
    parts_svc.apply(uow, actor.brand_id, MovementKind.RECEIVE, part, qty, None, loc.id, actor=actor.describe(),
                    at=now, serials=serials, note="import")
    if serials:
        uow.stock.add_serials(actor.brand_id, part.id, loc.id, serials)
    if row.get("reorder_point") or row.get("reorder_qty"):
        uow.stock.set_reorder(actor.brand_id, loc.id, part.id, _int(row.get("reorder_point", ""), "reorder_point", 0),
                              _int(row.get("reorder_qty", ""), "reorder_qty", 0))


_APPLY: dict[str, Callable[[UnitOfWork, Actor, dict[str, str], datetime], None]] = {
    "technicians": _technician, "certifications": _certification, "stock": _stock}


def require_importer(actor: Actor, kind: str) -> None:
    """Who may import what: managers everything, dispatchers stock."""
    if kind not in COLUMNS:
        raise InvalidInput("import.kind", f"import one of {', '.join(KINDS)}", field="kind")
    require_role(actor, Role.MANAGER, *((Role.DISPATCHER,) if kind == "stock" else ()), what=f"import {kind}")


def import_rows(actor: Actor, kind: str, rows: list[dict[str, str]], uow: UnitOfWork, clock: Clock, *,
                partial: bool = False, check_only: bool = False, first_row: int = 2) -> ImportReport:
    """Import the rows; row numbers in the report count the header as row 1, as a spreadsheet shows them
    (``first_row`` is the number of ``rows[0]`` when a slice of a file is checked). ``check_only`` runs every
    row through the same rules and rolls everything back: the report says what an import would do."""
    require_importer(actor, kind)
    required, optional = COLUMNS[kind]
    report = ImportReport(kind, rows=len(rows))
    if rows:
        missing = [c for c in required if c not in rows[0]]
        if missing:
            raise InvalidInput("import.columns", f"the header lacks {', '.join(missing)} (columns: "
                               f"{', '.join(required)}; optional {', '.join(optional)})")
    now = clock.now()
    with uow:
        for number, row in enumerate(rows, start=first_row):
            empty = [c for c in required if not row.get(c)]
            if empty:
                report.errors.append({"row": number, "field": empty[0], "code": "import.missing",
                                      "message": f"{empty[0]} is empty"})
                continue
            savepoint = uow.savepoint()
            try:
                _APPLY[kind](uow, actor, row, now)
                savepoint.commit()
                report.imported += 1
            except DomainError as exc:
                savepoint.rollback()
                report.errors.append({"row": number, "field": exc.context.get("field"), "code": exc.code,
                                      "message": exc.detail})
        if check_only:
            return report
        if report.errors and not partial:
            report.imported = 0
            return report
        evidence.record(uow, actor.brand_id, EvidenceKind(f"import.{kind}"), f"brand:{actor.brand_id}", None,
                        {"rows": report.rows, "imported": report.imported, "errors": len(report.errors),
                         "by": actor.describe()}, clock)
        uow.commit()
        report.applied = True
    return report
