"""The ticket state machine and its events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fairdesk.domain.errors import Conflict, Forbidden, InvalidInput
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import (
    CUSTOMER_ACTIONS,
    CUSTOMER_TRANSITIONS,
    TRANSITIONS,
    Category,
    Channel,
    CustomerAction,
    EventKind,
    Status,
    Ticket,
    customer_actions,
    format_ticket_number,
)

AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
AGENT = Actor(brand_id=1, role=Role.AGENT, user_id=7, label="agent:li")
CUSTOMER = Actor(brand_id=1, role=Role.CUSTOMER, user_id=8, customer_id=3, label="customer:zhang")
AUDITOR = Actor(brand_id=1, role=Role.AUDITOR, user_id=9)


def a_ticket(status: Status = Status.NEW) -> Ticket:
    ticket = Ticket.open(actor=AGENT, at=AT, brand_id=1, number="AG-20261124-000001", customer_id=3,
                         channel=Channel.HOTLINE, category=Category.REPAIR, subject="密码面板无反应")
    ticket.status = status
    return ticket


# The table, written out once more by hand: a change to the machine must change this test too.
EXPECTED = {
    "new": {"triaged", "resolved", "cancelled"},
    "triaged": {"scheduled", "in_progress", "waiting_customer", "resolved", "cancelled"},
    "scheduled": {"in_progress", "triaged", "waiting_customer", "cancelled"},
    "in_progress": {"waiting_customer", "waiting_parts", "scheduled", "resolved"},
    "waiting_customer": {"triaged", "scheduled", "in_progress", "resolved", "cancelled"},
    "waiting_parts": {"scheduled", "in_progress"},
    "resolved": {"closed", "reopened"},
    "reopened": {"triaged", "scheduled", "in_progress", "cancelled"},
    "closed": set(),
    "cancelled": set(),
}


class TestTransitionTable:
    def test_the_table_is_exactly_the_documented_one(self) -> None:
        """Every state has an entry and the allowed targets are as documented."""
        assert {s.value: {t.value for t in targets} for s, targets in TRANSITIONS.items()} == EXPECTED

    @pytest.mark.parametrize("start", list(Status))
    @pytest.mark.parametrize("target", list(Status))
    def test_staff_can_make_exactly_the_allowed_moves(self, start: Status, target: Status) -> None:
        ticket = a_ticket(start)
        if target.value in EXPECTED[start.value]:
            event = ticket.move(target, actor=AGENT, at=AT, note="ok")
            assert (ticket.status, event.from_status, event.to_status) == (target, start, target)
        else:
            with pytest.raises(Conflict) as err:
                ticket.move(target, actor=AGENT, at=AT)
            assert err.value.code == "ticket.illegal_transition"
            assert ticket.status is start

    def test_customer_moves_are_a_subset_of_the_table(self) -> None:
        for start, targets in CUSTOMER_TRANSITIONS.items():
            assert targets <= TRANSITIONS[start]

    def test_every_move_a_customer_may_make_is_offered_as_exactly_one_action_in_their_words(self) -> None:
        for start, targets in CUSTOMER_TRANSITIONS.items():
            offered = [CUSTOMER_ACTIONS[a].to for a in customer_actions(start)]
            assert sorted(offered) == sorted(targets), start
        assert customer_actions(Status.IN_PROGRESS) == [] and customer_actions(Status.CLOSED) == []

    def test_the_actions_that_end_a_request_are_confirmed_first(self) -> None:
        final = {a for a, rule in CUSTOMER_ACTIONS.items() if rule.final}
        assert final == {CustomerAction.CANCEL, CustomerAction.CONFIRM_FIXED}
        assert all(CUSTOMER_ACTIONS[a].to in (Status.CANCELLED, Status.CLOSED) for a in final)

    def test_every_state_but_cancelled_is_a_step_the_customer_can_follow(self) -> None:
        from fairdesk.domain.tickets import Step, progress

        steps, _ = progress(Status.NEW)
        assert steps == [Step.SUBMITTED, Step.ACCEPTED, Step.DISPATCHED, Step.ON_SITE, Step.DONE]
        assert {s: progress(s)[1] for s in Status if progress(s)[1] is None} == {Status.CANCELLED: None}
        assert progress(Status.SCHEDULED)[1] is Step.DISPATCHED and progress(Status.CLOSED)[1] is Step.DONE

    def test_closed_and_cancelled_are_final(self) -> None:
        assert not TRANSITIONS[Status.CLOSED] and not TRANSITIONS[Status.CANCELLED]


class TestWhoMayMove:
    def test_a_customer_can_confirm_a_resolved_repair_by_closing_it(self) -> None:
        ticket = a_ticket(Status.RESOLVED)
        ticket.move(Status.CLOSED, actor=CUSTOMER, at=AT)
        assert ticket.status is Status.CLOSED

    def test_a_customer_cannot_resolve_their_own_ticket(self) -> None:
        ticket = a_ticket(Status.IN_PROGRESS)
        with pytest.raises(Forbidden):
            ticket.move(Status.RESOLVED, actor=CUSTOMER, at=AT)
        assert ticket.status is Status.IN_PROGRESS

    def test_an_auditor_changes_nothing(self) -> None:
        ticket = a_ticket(Status.NEW)
        assert ticket.allowed_next(AUDITOR) == frozenset()
        with pytest.raises(Forbidden):
            ticket.move(Status.TRIAGED, actor=AUDITOR, at=AT)
        with pytest.raises(Forbidden):
            ticket.comment("looks fine", actor=AUDITOR, at=AT)


class TestEvents:
    def test_opening_a_ticket_records_a_created_event(self) -> None:
        ticket = a_ticket()
        [event] = ticket.events
        assert (event.kind, event.to_status, event.actor, event.at) == (EventKind.CREATED, Status.NEW,
                                                                        "agent:li", AT)

    def test_every_move_and_comment_is_an_event_with_who_when_and_why(self) -> None:
        ticket = a_ticket()
        ticket.move(Status.TRIAGED, actor=AGENT, at=AT, note="确认故障")
        ticket.comment("已联系客户", actor=AGENT, at=AT)
        kinds = [(e.kind, e.from_status, e.to_status, e.note) for e in ticket.events]
        assert kinds == [(EventKind.CREATED, None, Status.NEW, ""),
                         (EventKind.TRANSITION, Status.NEW, Status.TRIAGED, "确认故障"),
                         (EventKind.COMMENT, None, None, "已联系客户")]

    def test_an_empty_comment_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            a_ticket().comment("   ", actor=AGENT, at=AT)

    def test_an_oversized_subject_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as err:
            Ticket.open(actor=AGENT, at=AT, brand_id=1, number="X", customer_id=1, channel=Channel.WEB,
                        category=Category.REPAIR, subject="锁" * 201)
        assert err.value.code == "input.too_long"


def test_ticket_numbers_carry_prefix_local_day_and_sequence() -> None:
    assert format_ticket_number("FD", date(2026, 11, 24), 123) == "FD-20261124-000123"


class TestTheCustomersHistory:
    def test_the_customer_reads_roles_and_words_never_usernames_internal_steps_or_system_notes(self) -> None:
        from fairdesk.domain.tickets import Line, TicketEvent, customer_timeline

        def ev(kind: EventKind, actor: str, note: str = "", a: Status | None = None,
               b: Status | None = None) -> TicketEvent:
            return TicketEvent(1, 1, kind, actor, AT, a, b, note)

        events = [ev(EventKind.CREATED, "agent:li"),
                  ev(EventKind.TRANSITION, "dispatcher:wu", "visit booked", Status.TRIAGED, Status.SCHEDULED),
                  ev(EventKind.VISIT, "dispatcher:wu", "visit booked: 王师傅 2026-12-03 10:30-12:30; auto-dispatch"),
                  ev(EventKind.ESCALATION, "system:sla", "first_response 75%: notify"),
                  ev(EventKind.ASSIGNMENT, "system:sla", "escalation: reassign"),
                  ev(EventKind.COMMENT, "customer:zhang", "下午三点后在家"),
                  ev(EventKind.TRANSITION, "technician:wang", "technician on site", Status.SCHEDULED,
                     Status.IN_PROGRESS),
                  ev(EventKind.TRANSITION, "technician:wang", "更换了密码面板", Status.IN_PROGRESS, Status.RESOLVED)]
        assert customer_timeline(events) == [
            Line(AT, "service", "created"),
            Line(AT, "dispatch", "moved", Status.TRIAGED, Status.SCHEDULED),
            Line(AT, "dispatch", "visit booked", text="王师傅 2026-12-03 10:30-12:30"),
            Line(AT, "you", "comment", text="下午三点后在家"),
            Line(AT, "technician", "moved", Status.SCHEDULED, Status.IN_PROGRESS),
            Line(AT, "technician", "moved", Status.IN_PROGRESS, Status.RESOLVED, "更换了密码面板")]


class TestTheStaffsHistory:
    def test_staff_read_every_step_in_words_with_who_by_role_and_username(self) -> None:
        from fairdesk.domain.tickets import StaffLine, TicketEvent, staff_timeline

        def ev(kind: EventKind, actor: str, note: str = "", a: Status | None = None,
               b: Status | None = None) -> TicketEvent:
            return TicketEvent(1, 1, kind, actor, AT, a, b, note)

        events = [ev(EventKind.VISIT, "dispatcher:wu", "visit booked: 王师傅 2026-12-03 10:30-12:30; auto-dispatch"),
                  ev(EventKind.VISIT, "dispatcher:wu", "visit moved: 2026-12-04 08:30-10:30; 客户改时间"),
                  ev(EventKind.ESCALATION, "system:sla", "first_response 75%: notify"),
                  ev(EventKind.ASSIGNMENT, "system:sla", "escalation: onsite 100%: reassign"),
                  ev(EventKind.TRANSITION, "technician:wang", "technician on site", Status.SCHEDULED,
                     Status.IN_PROGRESS),
                  ev(EventKind.COMMENT, "agent:li", "客户来电催促")]
        assert staff_timeline(events) == [
            StaffLine(AT, "dispatcher", "wu", "visit booked", values=("王师傅 2026-12-03 10:30-12:30",
                                                                      "reason auto-dispatch")),
            StaffLine(AT, "dispatcher", "wu", "visit moved", values=("2026-12-04 08:30-10:30",), text="客户改时间"),
            StaffLine(AT, "system", "", "escalation", values=("deadline first_response", "75%", "escalate notify")),
            StaffLine(AT, "system", "", "assignment", values=("deadline onsite", "100%", "escalate reassign")),
            StaffLine(AT, "technician", "wang", "transition", Status.SCHEDULED, Status.IN_PROGRESS),
            StaffLine(AT, "agent", "li", "comment", text="客户来电催促")]
