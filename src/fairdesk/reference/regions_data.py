"""Loads the division table shipped in fairdesk/data (see fairdesk/data/SOURCES.md)."""

from __future__ import annotations

import functools
from importlib import resources

from fairdesk.domain.regions import Division, DivisionTable, Level, Resolver

__all__ = ["default_points", "default_resolver", "load_table", "point_of"]


def load_table() -> DivisionTable:
    data = resources.files("fairdesk") / "data"
    divisions = []
    for line in (data / "divisions.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, parent, level, name = line.split("\t")
            divisions.append(Division(code, parent, Level(int(level)), name))
    former = []
    for line in (data / "former_names.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            name, code, _year = line.split("\t")
            former.append((name, code))
    return DivisionTable(divisions, former)


@functools.cache
def default_resolver() -> Resolver:
    """One resolver per process, built on first use."""
    return Resolver(load_table())


@functools.cache
def default_points() -> dict[str, tuple[float, float]]:
    """Approximate centres of provinces, prefectures and counties (see data/SOURCES.md)."""
    points = {}
    for line in (resources.files("fairdesk") / "data" / "centroids.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, lat, lon = line.split("\t")
            points[code] = (float(lat), float(lon))
    return points


def point_of(chain: tuple[str, ...] | list[str]) -> tuple[float, float] | None:
    """The point of the deepest division on a chain that has one (a township takes its county's)."""
    points = default_points()
    for code in reversed(chain):
        if code in points:
            return points[code]
    return None
