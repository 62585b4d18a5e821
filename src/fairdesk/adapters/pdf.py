"""A readable PDF of an evidence bundle (reportlab, with its built-in Chinese CID font: no font files)."""

from __future__ import annotations

import io
import json
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

__all__ = ["bundle_pdf", "case_pdf"]

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def bundle_pdf(bundle: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title="fairdesk evidence bundle", leftMargin=36, rightMargin=36)
    h = ParagraphStyle("h", fontName=FONT, fontSize=16, leading=22)
    p = ParagraphStyle("p", fontName=FONT, fontSize=9, leading=12)
    small = ParagraphStyle("s", fontName=FONT, fontSize=7, leading=9)
    story: list[Any] = [
        Paragraph(escape(f"证据包 / Evidence bundle — {bundle['brand']['name']}"), h),
        Paragraph(escape(f"客户 / customer #{bundle['customer_id']} · 生成于 / generated {bundle['generated_at']}"), p),
        Paragraph(escape(f"品牌公钥 / brand key (Ed25519): {bundle['public_key']}"), small),
        Paragraph(escape("校验 / verify: fairdesk evidence verify-bundle FILE --key <published key> "
                         "(格式说明见 docs/evidence-bundle.md)"), small),
        Spacer(1, 10),
    ]
    rows = [[Paragraph(x, p) for x in ("#", "时间 / time (UTC)", "事件 / event", "对象 / subject", "内容 / details")]]
    for e in bundle["entries"]:
        rows.append([Paragraph(str(e["seq"]), p), Paragraph(escape(e["at"][:19]), p), Paragraph(escape(e["kind"]), p),
                     Paragraph(escape(e["subject"]), p),
                     Paragraph(escape(json.dumps(e["payload"], ensure_ascii=False)[:600]), small)])
    table = Table(rows, colWidths=[28, 90, 90, 70, 245], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7ecf2"))]))
    story.append(table)
    story.append(Spacer(1, 10))
    for i, cp in enumerate(bundle["checkpoints"]):
        covered = f"entries {cp['from_seq'] + 1}–{cp['to_seq']}"
        story.append(Paragraph(escape(f"签名检查点 / signed checkpoint {i}: {covered}, root {cp['merkle_root']}, "
                                      f"signed {cp['signed_at']}"), small))
    doc.build(story)
    return out.getvalue()


def case_pdf(case: dict[str, Any]) -> bytes:
    """A printable, filing-ready complaint case: the form's fields, deadlines, timeline, attachments, chain."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title="fairdesk complaint case", leftMargin=36, rightMargin=36)
    h = ParagraphStyle("h", fontName=FONT, fontSize=16, leading=22)
    h2 = ParagraphStyle("h2", fontName=FONT, fontSize=11, leading=16, spaceBefore=8)
    p = ParagraphStyle("p", fontName=FONT, fontSize=9, leading=12)
    c = case["complaint"]

    def table(rows: list[list[str]], widths: list[float]) -> Table:
        tbl = Table([[Paragraph(escape(str(x)), p) for x in r] for r in rows], colWidths=widths, repeatRows=1)
        tbl.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7ecf2"))]))
        return tbl

    story: list[Any] = [
        Paragraph(escape(f"投诉案件材料 / Complaint case {c['number']}"), h),
        Paragraph(escape(f"生成于 / generated {case['generated_at']} · {case['format']}"), p),
        Paragraph(escape("投诉表单 / filing form"), h2),
        table([["项目 / field", "内容 / value"], *[[k, v] for k, v in case["form"].items()]], [150, 373]),
        Paragraph(escape("期限 / deadlines"), h2),
        table([["期限 / deadline", "到期 / due"], *[[k, v or "—"] for k, v in c["deadlines"].items()],
               ["超期 / missed", ", ".join(c["overdue"]) or "—"]], [150, 373]),
        Paragraph(escape("经过 / timeline"), h2),
        table([["时间 / time", "一方 / side", "事项 / event", "说明 / note"],
               *[[e["at"][:19], e["side"], e["kind"] + (f" → {e['to']}" if e["to"] else ""), e["note"]]
                 for e in c.get("events", [])]], [105, 60, 110, 248]),
        Paragraph(escape("附件 / attachments (SHA-256)"), h2),
        table([["文件 / file", "类型 / type", "SHA-256"],
               *[[a["filename"], a["content_type"], a["sha256"]] for a in c.get("attachments", [])]], [140, 80, 303]),
        Paragraph(escape("证据链 / evidence-chain entries"), h2),
        table([["#", "时间 / time", "事件 / event", "hash"],
               *[[e["seq"], e["at"][:19], e["kind"], e["hash"]] for e in case["evidence_chain"]]], [30, 105, 110, 278]),
        Paragraph(escape("下一步可投诉至 / where to file next"), h2),
        table([["机构 / body", "电话 / phone", "网址 / web", "说明 / what"],
               *[[f"{b['name_zh']} / {b['name_en']}", b["phone"], b["url"], b["what_zh"]]
                 for b in case["where_to_file"]]], [130, 50, 110, 233]),
    ]
    doc.build(story)
    return out.getvalue()
