"""Routing rules and coverage gaps, on the real division table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fairdesk.domain.errors import InvalidInput
from fairdesk.domain.network import Outlet, coverage_gaps, haversine_km, rank_outlets
from fairdesk.reference.regions_data import load_table

TABLE = load_table()
CHAOYANG = TABLE.chain("110105")  # 北京市朝阳区


class TestRanking:
    def test_the_most_specific_coverage_ranks_first(self) -> None:
        """An outlet naming the county beats one covering the whole province, wherever they are."""
        ranked = rank_outlets(CHAOYANG, {1: {"110000"}, 2: {"110105"}}, TABLE)
        assert [(r.outlet_id, r.matched_code, r.specificity) for r in ranked] == [(2, "110105", 3), (1, "110000", 1)]

    def test_equal_coverage_is_decided_by_distance_then_load(self) -> None:
        where = (39.92, 116.46)
        coverage = {1: {"110105"}, 2: {"110105"}, 3: {"110105"}}
        near, far = (39.91, 116.45), (40.5, 117.0)
        ranked = rank_outlets(CHAOYANG, coverage, TABLE, where=where, positions={1: far, 2: near})
        assert [r.outlet_id for r in ranked] == [2, 1, 3]  # no coordinates: after those with distances
        by_load = rank_outlets(CHAOYANG, {1: {"110105"}, 2: {"110105"}}, TABLE, load={1: 5, 2: 1})
        assert [r.outlet_id for r in by_load] == [2, 1]

    def test_outlets_covering_other_places_are_not_offered(self) -> None:
        assert rank_outlets(CHAOYANG, {1: {"220104"}, 2: {"440000"}}, TABLE) == []

    def test_haversine_beijing_to_shanghai_is_about_1070_km(self) -> None:
        assert haversine_km((39.9042, 116.4074), (31.2304, 121.4737)) == pytest.approx(1067, abs=5)


class TestGaps:
    def test_a_province_wide_coverage_leaves_no_gap(self) -> None:
        [beijing] = coverage_gaps({"110000"}, TABLE, "110000")
        assert (beijing.counties, beijing.covered, beijing.uncovered) == (16, 16, [])

    def test_uncovered_and_partly_covered_counties_are_listed(self) -> None:
        [beijing] = coverage_gaps({"110105", "110108001"}, TABLE, "110000")  # 朝阳区; one street of 海淀区
        assert beijing.covered == 1
        assert beijing.partial == [("110108", "海淀区")]
        assert len(beijing.uncovered) == 14

    def test_cities_without_counties_count_as_county_level_units(self) -> None:
        [guangdong] = coverage_gaps({"442000"}, TABLE, "440000")
        assert ("442000", "中山市") not in guangdong.uncovered
        assert ("441900", "东莞市") in guangdong.uncovered


def test_an_outlet_needs_a_sane_code_and_both_coordinates() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        Outlet(brand_id=1, code="bad code!", name="x", address="y", created_at=now)
    with pytest.raises(InvalidInput):
        Outlet(brand_id=1, code="AG-1", name="x", address="y", created_at=now, latitude=30.0)
