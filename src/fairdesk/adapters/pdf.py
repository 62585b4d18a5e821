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

__all__ = ["bundle_pdf"]

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
