"""Business rules, each written once as a scalar function.

Compiled for the kernels and called as they are by the model and the reference agents; numpy arrays
go through the same operations element-wise.
"""

from __future__ import annotations

import numpy as np

from sim.accel import helper
from sim.params import SEVERITIES

PRIMARY_TOP_TIER = 1
"""Village clinics (tier 0) and community or township health centres (tier 1) are primary care (基层)."""


@helper
def is_primary(tier: int | np.ndarray) -> bool | np.ndarray:
    """Whether a facility of this tier gives primary care (基层医疗卫生机构)."""
    return tier <= PRIMARY_TOP_TIER


@helper
def mean_stay(tier_mean: float, severity_factor: float, stay_length: float) -> float:
    """Mean days in bed: the admitting tier's mean × the severity's factor × the facility's stay-length multiplier.

    The multiplier is the provider's response to how stays are paid (`payment.respond_in_wards`).
    Element-wise on arrays.
    """
    return tier_mean * severity_factor * stay_length


@helper
def covered_rate(rate: float, self_paid_share: float) -> float:
    """The fund's rate on a bill of which a share is for items outside the benefit list (目录外), paid by the patient.

    Element-wise on arrays.
    """
    return rate * (1.0 - self_paid_share)


@helper
def is_capitated(signed: bool, tier: int, facility_consortium: int, home_consortium: int) -> bool:
    """Whether capitation (按人头) already pays the fund's part of a visit, which is then not paid again.

    The fund pays a signed resident's own consortium's primary care per head; for a visit elsewhere,
    or by an unsigned resident, it pays per visit. Element-wise on arrays.
    """
    return signed & is_primary(tier) & (facility_consortium == home_consortium)


@helper
def stays_home(outside: float, shock: float, best: float) -> bool:
    """Whether an episode is cared for at home (自我医疗): staying home plus its taste shock beats the best route.

    `outside` is −inf for an episode that always seeks care (`choice.outside_utility`); only the
    first choice weighs it.
    """
    return outside + shock > best


@helper
def visit_row(facility: int | np.ndarray, severity: int | np.ndarray, kind: int | np.ndarray) -> int | np.ndarray:
    """Row of a visit in the year's visit tables, ordered by facility, then severity, then kind (acute, follow-up)."""
    return (facility * len(SEVERITIES) + severity) * 2 + kind


REGIMEN_STREAM = "pop.regimen"
"""Stream of each resident's chronic regimen draw, keyed by resident (`stocks`)."""

CONSULT_STREAM = "care.teleconsult"
"""Stream of each episode's tele-consultation draw, keyed by the episode's key (`remotely_resolved`)."""

DECLINED_STREAM = "care.declined_seek_bed"
"""Stream of the draw deciding whether a patient declined by restraint seeks a bed higher up, by episode key."""


@helper
def declined_by_restraint(draw: float, probability: float, propensity: float) -> bool:
    """Whether an episode is not admitted only because its facility's admission propensity is below 1.

    At the baseline propensity (1) a draw below `probability` needs a bed; restraint (propensity < 1)
    declines the draws between `probability` × propensity and `probability`. The baseline's outpatients
    (draws above `probability`) are not declined. Element-wise on arrays.
    """
    return (draw >= probability * propensity) & (draw < probability)


@helper
def stocks(regimen: float, breadth: float) -> bool:
    """Whether a facility stocks a patient's regimen: its keyed draw is below the facility's formulary breadth.

    The same draw against a broader formulary stocks a superset of regimens (common random numbers).
    An acute episode needs no chronic regimen: its draw is −1, stocked everywhere.
    """
    return regimen < breadth


@helper
def remotely_resolved(
    consulted: bool, primary: bool, consortium: int, severity: int, capability: int, gap: int
) -> bool:
    """Whether a tele-consultation with the lead hospital (远程会诊) resolves an episode beyond its capability.

    Only at primary care in a consortium (its lead gives the remote help), only for an episode at most
    `gap` levels above the facility's capability, and only where the episode's keyed draw said so
    (`consulted`). Element-wise on arrays.
    """
    return consulted & primary & (consortium >= 0) & (severity - capability <= gap)


@helper
def recognised_tests(tests: float, tests_avoided: float) -> float:
    """Tests billed at a referred patient's hospital visit when results are recognised (检查结果互认).

    A share of the tests is not repeated.
    """
    return tests * (1.0 - tests_avoided)


@helper
def visit_bill(components: np.ndarray) -> float:
    """A visit's or a stay's bill from its (4,) components: service + (drugs + consumables) + tests.

    The same sum as `payment.bill_totals`, for one bill in a kernel.
    """
    return components[0] + (components[1] + components[2]) + components[3]


def staffed_quality(
    quality: np.ndarray, skill_before: np.ndarray, skill_after: np.ndarray, per_skill: float
) -> np.ndarray:
    """A facility's quality after its doctors' effective skill changed: moved by `per_skill` × the change, within 0–1.

    The skill of a tier's doctors at the build gives the tier's quality, so quality moves only as
    skill moves away from it (a resource-sinking gain already in `quality` is kept); an unchanged
    skill leaves quality exactly as it was.
    """
    return np.clip(quality + per_skill * (skill_after - skill_before), 0.0, 1.0)


def staffed_capability(base: np.ndarray, tier: np.ndarray, skill: np.ndarray, tier_skill: np.ndarray) -> np.ndarray:
    """Outpatient capability from the doctors' effective skill: the tier's, one severity up or down at a threshold.

    One severity up where the facility's doctors are as skilled as the next tier's at the build, one
    down where they are no more skilled than the tier's below (from 0 minor to 3 complex).

    Args:
        base: (F,) the tier's capability (`care.outpatient_capability`).
        tier: (F,) tier of each facility.
        skill: (F,) effective skill of each facility's doctors.
        tier_skill: (tiers,) skill of each tier's doctors at the build (`workforce.skill`).
    """
    top = tier_skill.size - 1
    above = np.where(tier < top, tier_skill[np.minimum(tier + 1, top)], np.inf)
    below = np.where(tier > 0, tier_skill[np.maximum(tier - 1, 0)], -np.inf)
    step = (skill >= above).astype(np.int64) - (skill <= below).astype(np.int64)
    return np.clip(base + step, 0, len(SEVERITIES) - 1)


UPCODING_STREAM = "care.upcoding"
"""Stream of each stay's coding draw, keyed by the episode's key (`coded_severity`)."""


@helper
def coded_severity(severity: int, upcoding_share: float, draw: float) -> int:
    """The severity group a stay paid per case is coded in: one above its own where its keyed draw is below the share.

    Upcoding (DRG creep): the hospital codes a share of its stays one group higher, never above the
    top group. The draw is the stay's own (`UPCODING_STREAM`), so a larger share codes a superset
    of stays higher (common random numbers).
    """
    if severity < len(SEVERITIES) - 1 and draw < upcoding_share:
        return severity + 1
    return severity
