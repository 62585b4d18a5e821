"""A unit's warranty on a day, as the staff's panel shows it."""

from __future__ import annotations

from datetime import date

from fairdesk.domain.customers import Unit, Warranty


class TestWarranty:
    def test_a_unit_is_in_warranty_up_to_and_including_its_end_date_and_unknown_without_one(self) -> None:
        unit = Unit(1, 1, 1, "SN-1", date(2024, 11, 24), date(2026, 11, 24))
        assert unit.warranty_on(date(2026, 11, 24)) is Warranty.IN
        assert unit.warranty_on(date(2026, 11, 25)) is Warranty.OUT
        assert Unit(1, 1, 1, "SN-2").warranty_on(date(2026, 11, 25)) is Warranty.UNKNOWN
