"""The service-credit score: a published formula from consumer ratings and complaint handling.

Every part is a rate in [0, 1] turned into points by its weight; the parts add up to 100. Each rate is shrunk
towards the platform's value with a fixed number of pseudo-observations (a Bayesian average) and then taken at
the cautious end of a one-standard-error band, a band that narrows as observations come in. So a brand with
three perfect ratings sits near the platform mean, below the band's edge of one with three thousand equally good
ones: it cannot outrank it by luck alone.
The fairness deductions are taken off the brand's total. docs/credit.md states the same formula in words; the
test suite recomputes a score from its stored inputs with that text and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["METHOD", "Inputs", "Method", "Priors", "Score", "compute", "grade"]


@dataclass(frozen=True)
class Inputs:
    """Counts over the scoring window (the 365 days before the computation)."""

    ratings: int = 0  # answered surveys with a CSAT score
    csat_sum: int = 0  # sum of their CSAT scores (1-5)
    csat_sq: int = 0  # sum of their squares (for the platform's spread)
    nps_answers: int = 0
    promoters: int = 0  # NPS 9-10
    detractors: int = 0  # NPS 0-6
    tickets: int = 0  # service requests opened
    complaints: int = 0  # complaints received
    response_due: int = 0  # complaints whose first-response deadline has passed or that were answered
    on_time: int = 0  # … answered by the deadline
    ended: int = 0  # complaints that reached an end (rejected, settled, mediation ended, closed)
    confirmed: int = 0  # … that the consumer confirmed resolved
    repeat: int = 0  # complaints from a consumer who had complained about the business in the 90 days before
    # Fairness (brand scores only): plan changes and conversations in the window.
    upgrades: int = 0
    downgrades: int = 0  # downgrades and cancellations
    upgrade_delay_h: float = 0.0  # median hours from request to effect
    downgrade_delay_h: float = 0.0
    upgrade_steps: float = 0.0  # mean requests the customer made per change
    downgrade_steps: float = 0.0
    slower_to_human: bool = False  # the fairness report's flag on waiting for a person

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Priors:
    """The platform's values over the same window, towards which every score is shrunk."""

    csat: float = 4.0  # mean CSAT
    csat_sd: float = 1.0  # standard deviation of a CSAT answer
    nps: float = 0.3  # (promoters - detractors) / answers
    nps_sd: float = 0.8  # standard deviation of an answer scored +1 / 0 / -1
    complaint_rate: float = 0.01  # complaints per ticket
    on_time: float = 0.8
    confirmed: float = 0.6
    repeat: float = 0.1

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Method:
    version: str = "1"
    # Weights in points; they add up to 100.
    w_csat: float = 30
    w_nps: float = 10
    w_complaint_rate: float = 20
    w_on_time: float = 15
    w_confirmed: float = 15
    w_repeat: float = 10
    # Pseudo-observations of the shrinkage.
    m_ratings: int = 30
    m_tickets: int = 1000
    m_complaints: int = 20
    #: Each part is taken this many standard errors towards the cautious side.
    z: float = 1.0
    #: Complaints per 1,000 requests at which the complaint-rate part is worth half its points.
    half_rate_per_1000: float = 10.0
    #: Fairness deductions (points), each applied when there are at least ``fair_min`` of both kinds.
    fair_delay_points: float = 5
    fair_delay_slack_h: float = 24
    fair_steps_points: float = 5
    fair_human_points: float = 5
    fair_min: int = 5

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


METHOD = Method()


@dataclass(frozen=True)
class Part:
    name: str
    observations: int
    raw: float | None  # the business's own rate (None without observations)
    shrunk: float  # after shrinkage, in [0, 1]
    points: float
    weight: float


@dataclass(frozen=True)
class Score:
    total: float
    grade: str
    parts: tuple[Part, ...]
    deductions: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.total, "grade": self.grade,
                "parts": [asdict(p) for p in self.parts],
                "deductions": [{"reason": r, "points": p} for r, p in self.deductions]}


def _shrink(successes: float, n: int, prior: float, m: int) -> float:
    return (successes + m * prior) / (n + m)


def _se(sd: float, n: int, m: int) -> float:
    return sd / math.sqrt(n + m)


def _bern(p: float) -> float:
    return math.sqrt(max(0.0, p * (1 - p)))


def _unit(v: float) -> float:
    return min(1.0, max(0.0, v))


def grade(total: float) -> str:
    return "A" if total >= 85 else "B" if total >= 70 else "C" if total >= 55 else "D"


def compute(x: Inputs, priors: Priors, method: Method = METHOD, *, brand_level: bool = True) -> Score:
    """The score of one brand or outlet from its inputs and the platform's priors."""
    m, z, p = method, method.z, priors
    # Good-direction rates take the band's lower edge, bad-direction rates (complaints, repeats) its upper edge.
    csat = (_shrink(x.csat_sum, x.ratings, p.csat, m.m_ratings) - z * _se(p.csat_sd, x.ratings, m.m_ratings) - 1) / 4
    nps = (_shrink(x.promoters - x.detractors, x.nps_answers, p.nps, m.m_ratings)
           - z * _se(p.nps_sd, x.nps_answers, m.m_ratings) + 1) / 2
    rate = (_shrink(x.complaints, x.tickets, p.complaint_rate, m.m_tickets)
            + z * _se(_bern(p.complaint_rate), x.tickets, m.m_tickets))
    on_time = (_shrink(x.on_time, x.response_due, p.on_time, m.m_complaints)
               - z * _se(_bern(p.on_time), x.response_due, m.m_complaints))
    confirmed = (_shrink(x.confirmed, x.ended, p.confirmed, m.m_complaints)
                 - z * _se(_bern(p.confirmed), x.ended, m.m_complaints))
    repeat = (_shrink(x.repeat, x.complaints, p.repeat, m.m_complaints)
              + z * _se(_bern(p.repeat), x.complaints, m.m_complaints))
    rows = [
        ("csat", x.ratings, x.csat_sum / x.ratings if x.ratings else None, csat, m.w_csat),
        ("nps", x.nps_answers, (x.promoters - x.detractors) / x.nps_answers if x.nps_answers else None,
         nps, m.w_nps),
        ("complaint_rate", x.tickets, x.complaints / x.tickets if x.tickets else None,
         1 / (1 + rate * 1000 / m.half_rate_per_1000), m.w_complaint_rate),
        ("on_time_response", x.response_due, x.on_time / x.response_due if x.response_due else None, on_time,
         m.w_on_time),
        ("confirmed_resolution", x.ended, x.confirmed / x.ended if x.ended else None, confirmed, m.w_confirmed),
        ("repeat_complaints", x.complaints, x.repeat / x.complaints if x.complaints else None, 1 - repeat,
         m.w_repeat),
    ]
    parts = tuple(Part(name, n, None if raw is None else round(raw, 6), round(_unit(value), 6),
                       round(_unit(value) * w, 4), w) for name, n, raw, value, w in rows)
    deductions: list[tuple[str, float]] = []
    if brand_level:
        both = min(x.upgrades, x.downgrades) >= m.fair_min
        if both and x.downgrade_delay_h > x.upgrade_delay_h + m.fair_delay_slack_h:
            deductions.append(("downgrade_slower_than_upgrade", m.fair_delay_points))
        if both and x.downgrade_steps > x.upgrade_steps:
            deductions.append(("downgrade_more_steps_than_upgrade", m.fair_steps_points))
        if x.slower_to_human:
            deductions.append(("slower_to_a_person_for_downgrades", m.fair_human_points))
    total = sum(p.points for p in parts) - sum(p for _, p in deductions)
    total = round(min(100.0, max(0.0, total)), 1)
    return Score(total, grade(total), parts, tuple(deductions))
