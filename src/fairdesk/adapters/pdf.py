"""Readable PDFs of an evidence bundle and a complaint case (reportlab, with its built-in Chinese CID font: no font
files), in the reader's language: labels from the catalogs, times in Asia/Shanghai, events in words
(fairdesk.words) — the JSON next to each keeps the codes a verifier checks."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from fairdesk.i18n import t
from fairdesk.words import case_rows, evidence_line, local_time

__all__ = ["bundle_pdf", "case_pdf"]

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
_H = ParagraphStyle("h", fontName=FONT, fontSize=16, leading=22)
_H2 = ParagraphStyle("h2", fontName=FONT, fontSize=11, leading=16, spaceBefore=8)
_P = ParagraphStyle("p", fontName=FONT, fontSize=9, leading=12)
_SMALL = ParagraphStyle("s", fontName=FONT, fontSize=7, leading=9)


def _table(head: list[str], rows: list[list[str]], widths: list[float], style: ParagraphStyle = _P) -> Table:
    tbl = Table([[Paragraph(escape(str(x)), style) for x in r] for r in [head, *rows]], colWidths=widths,
                repeatRows=1)
    tbl.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7ecf2"))]))
    return tbl


def bundle_pdf(bundle: dict[str, Any], lang: str = "zh-CN",
               names: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """The customer's evidence bundle to read and print; ``names`` gives plans' and parts' names by code."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=t("Evidence bundle", lang), leftMargin=36, rightMargin=36)
    story: list[Any] = [
        Paragraph(escape(t("Evidence bundle", lang) + " — " + bundle["brand"]["name"]), _H),
        Paragraph(escape(t("Generated at", lang) + " " + local_time(bundle["generated_at"], lang) + " · "
                         + t("Every interaction the brand recorded about you, in order.", lang)), _P),
        Paragraph(escape(t("Brand signing key", lang) + ": " + str(bundle["public_key"])), _SMALL),
        Paragraph(escape(t("To check it: the JSON copy of this bundle holds every record with its proof; "
                           "the command-line tool verifies it against the brand's published key.", lang)), _SMALL),
        Spacer(1, 10),
    ]
    rows = []
    for e in bundle["entries"]:
        what, details = evidence_line(e["kind"], e["payload"], lang, names)
        rows.append([str(e["seq"]), local_time(e["at"], lang, seconds=True), what, details])
    story.append(_table(["#", t("Time", lang), t("What happened", lang), t("Details", lang)], rows,
                        [28, 95, 110, 290]))
    story.append(Spacer(1, 10))
    for i, cp in enumerate(bundle["checkpoints"]):
        story.append(Paragraph(escape(t("Signed checkpoint {n}: records {first}–{last}, signed at {at}", lang).format(
            n=i + 1, first=cp["from_seq"] + 1, last=cp["to_seq"], at=local_time(cp["signed_at"], lang))
            + f" · {cp['merkle_root']}"), _SMALL))
    doc.build(story)
    return out.getvalue()


def case_pdf(case: dict[str, Any], lang: str = "zh-CN") -> bytes:
    """A printable, filing-ready complaint case: the form's fields, deadlines, timeline, attachments, chain."""
    out = io.BytesIO()
    c = case["complaint"]
    doc = SimpleDocTemplate(out, pagesize=A4, title=t("Complaint case", lang), leftMargin=36, rightMargin=36)
    rows = case_rows(case, lang)
    story: list[Any] = [
        Paragraph(escape(t("Complaint case", lang) + " " + c["number"]), _H),
        Paragraph(escape(t("Generated at", lang) + " " + local_time(case["generated_at"], lang)), _P),
        Paragraph(escape(t("Filing form", lang)), _H2),
        _table([t("Field", lang), t("Value", lang)], rows["form"], [150, 373]),
        Paragraph(escape(t("Deadlines", lang)), _H2),
        _table([t("Deadline", lang), t("Due", lang)], rows["deadlines"], [150, 373]),
        Paragraph(escape(t("Timeline", lang)), _H2),
        _table([t("Time", lang), t("Side", lang), t("What happened", lang), t("Note", lang)], rows["timeline"],
               [95, 60, 120, 248]),
        Paragraph(escape(t("Attachments", lang)), _H2),
        _table([t("File", lang), t("Type", lang), "SHA-256"], rows["attachments"], [140, 80, 303]),
        Paragraph(escape(t("Evidence log records", lang)), _H2),
        _table(["#", t("Time", lang), t("What happened", lang), t("Fingerprint", lang)], rows["chain"],
               [30, 95, 120, 278], _SMALL),
        Paragraph(escape(t("Where to file next", lang)), _H2),
        _table([t("Body", lang), t("Phone", lang), t("Web", lang), t("What it is for", lang)], rows["next"],
               [130, 50, 110, 233]),
    ]
    doc.build(story)
    return out.getvalue()
