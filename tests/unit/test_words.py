"""What people read of coded records: evidence entries, case files and plan lines in words, Shanghai time."""

from __future__ import annotations

from decimal import Decimal

from fairdesk.domain.plans import Line
from fairdesk.words import case_rows, evidence_line, local_time, plan_line, value_word, who


def test_times_are_shown_in_shanghai_time() -> None:
    assert local_time("2026-12-01T23:00:02.5+00:00") == "2026-12-02 07:00"
    assert local_time("2026-12-01T23:00:02+00:00", seconds=True) == "2026-12-02 07:00:02"
    assert local_time(None) == ""


def test_people_are_named_by_their_role_never_by_a_username() -> None:
    assert who("agent:zhang", "zh-CN") == "热线客服" and who("customer:customer", "zh-CN") == "客户"
    assert who("demo-loader", "zh-CN") == "系统" and who("agent:zhang", "en") == "Hotline agent"


def test_an_evidence_entry_reads_in_words_with_names_for_codes() -> None:
    names = {"plans": {"care-plus": "安心保 升级版"}, "parts": {"BAT-AA": "5号碱性电池"}}
    what, details = evidence_line("visit.booked", {
        "by": "dispatcher:wu", "number": "AG-20261202-000007", "note": "auto-dispatch",
        "starts_at": "2026-12-02T02:30:00+00:00", "ends_at": "2026-12-02T04:30:00+00:00",
        "parts": [{"location": "VAN-TECHNICIAN", "qty": 4, "sku": "BAT-AA"}], "technician_id": 115}, "zh-CN", names)
    assert what == "预约上门"
    assert details == ("编号：AG-20261202-000007；上门：2026-12-02 10:30–12:30；配件：5号碱性电池 ×4；"
                       "备注：系统自动派单；经办：调度员")
    what, details = evidence_line("subscription.started", {
        "plan": "care-plus", "price": "199.00", "payment_method": "alipay", "auto_renew": True,
        "channel": "web", "by": "customer:c"}, "zh-CN", names)
    assert what == "开通服务计划" and "安心保 升级版" in details and "支付宝" in details and "¥199.00" in details
    assert "care-plus" not in details and "alipay" not in details
    assert evidence_line("brand.something_new", {}, "zh-CN")[0] == "其他记录"
    # A note the system wrote in English for staff is not shown to a Chinese reader; a person's words are.
    assert "备注" not in evidence_line("ticket.moved", {"note": "visit booking", "to": "scheduled"}, "zh-CN")[1]
    # A reason the system wrote is said from the same words the staff's history uses ("reason …" in the catalogs).
    assert "调解期内未达成一致" in evidence_line("complaint.overdue", {
        "note": "no agreement within the mediation period"}, "zh-CN")[1]


def test_a_plan_line_is_said_in_words_from_its_share_of_the_period() -> None:
    line = Line("credit", "unused part (41.10% of the period) of the amount paid", Decimal("-81.79"), Decimal("41.10"))
    assert plan_line(line, "zh-CN") == "已付费用中未使用的部分（占本期 41.10%）"
    assert plan_line({"kind": "charge", "percent": "41.10"}, "en") == \
        "The rest of the period at the new price (share of the period: 41.10%)"


def test_a_value_without_a_word_is_shown_as_it_is() -> None:
    assert value_word("payment", "alipay", "zh-CN") == "支付宝"
    assert value_word("payment", "bank-transfer-7", "zh-CN") == "bank-transfer-7"


def test_a_case_file_reads_in_words() -> None:
    case = {"form": {"complainant": "张丽", "phone": "138 0013 8000", "business": "安固保险柜（浙江）有限公司",
                     "business_address": "浙江省金华市永康市金都路 888 号", "outlet_address": "", "category": "refund",
                     "request": "退款", "facts": "未退款", "reference": "", "number": "TS1",
                     "filed": "2026-12-02T07:00:03.1+08:00"},
            "complaint": {"deadlines": {"acceptance": "2026-12-04T00:00:00+08:00", "mediation_end": None},
                          "overdue": ["acceptance"],
                          "events": [{"at": "2026-12-02T07:00:00+08:00", "side": "business", "kind": "move",
                                      "to": "accepted", "note": ""}]},
            "evidence_chain": [{"seq": 1, "at": "2026-12-01T23:00:03+00:00", "kind": "complaint.filed",
                                "hash": "ab" * 32}],
            "where_to_file": [{"name_zh": "全国12315平台", "name_en": "12315", "phone": "12315",
                               "url": "https://www.12315.cn", "what_zh": "投诉", "what_en": "file"}]}
    rows = case_rows(case, "zh-CN")
    form = dict(map(tuple, rows["form"]))
    assert form["类别"] == "退款" and form["投诉时间"] == "2026-12-02 07:00" and form["被投诉方地址"].endswith("888 号")
    assert rows["deadlines"][0] == ["受理决定期限", "2026-12-04 00:00"] and rows["deadlines"][1] == ["调解期限", "—"]
    assert rows["deadlines"][-1] == ["超时", "受理决定期限"]
    assert rows["timeline"] == [["2026-12-02 07:00", "经营者", "状态变更 → 已受理", ""]]
    assert rows["chain"][0][:3] == ["1", "2026-12-02 07:00:03", "提交投诉"]


def test_every_kind_of_evidence_entry_has_its_words_in_both_languages() -> None:
    """A kind without words would read as 'another record' on the timeline, the export and the PDF."""
    from fairdesk.domain.evidence import EvidenceKind
    from fairdesk.i18n import t
    from fairdesk.words import EVIDENCE_KINDS

    assert set(EVIDENCE_KINDS) == set(EvidenceKind)
    for kind in EvidenceKind:
        zh, en = t(EVIDENCE_KINDS[kind], "zh-CN"), t(EVIDENCE_KINDS[kind], "en")
        assert zh != en and not zh.isascii(), kind
    assert evidence_line("complaint.end_mediation", {}, "zh-CN")[0] == "调解结束"
