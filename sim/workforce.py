"""Doctors: counted per facility, with a mean skill that sets the facility's quality and outpatient capability.

At the build each facility has the doctors of its tier's density (`region.doctors_per_1000`) and its
tier's skill (`workforce.skill`), so its quality and capability are its tier's. Each later year,
while `workforce.enabled`, expected (deterministic) flows change them (`advance`):

- retirement: a share of every facility's doctors leaves; skill is unchanged (retirees are average);
- migration up for pay: a share of primary care's doctors, the better qualified, moves to the county
  hospitals of its district, in proportion to the hospital–primary pay gap; Sanming's salary reform
  and the 两个允许 lever (primary pay toward county hospitals') narrow the gap;
- hiring: every facility refills its posts (the built count) with new graduates at its tier's
  skill; hospitals count the doctors who came up beyond their posts and keep their skill;
- GP training: new GPs at health centres, in proportion to their doctors.

Sending down (下沉, a lever) rotates a share of each consortium lead's doctors to its members of
lower tiers for the year: their effective skill is the mix of their own and the rotated doctors'.
Quality follows the change of effective skill (`rules.staffed_quality`); outpatient capability
moves one severity up when effective skill reaches the next tier's, down when it falls to the
tier's below (`rules.staffed_capability`). Outpatient capacity (clinic sessions) stays the region's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.parameters.workforce import WorkforceParams
from sim.params import TIERS
from sim.rules import is_primary

HEALTH_CENTRE, SECONDARY = TIERS.index("health_centre"), TIERS.index("secondary")


@dataclass(frozen=True)
class Staff:
    """Each facility's doctors as arrays over facilities.

    Attributes:
        doctors: Doctors employed (fractional at small scale).
        establishment: Doctors at the build: the posts primary care refills each year (编制).
        gps: General practitioners among them (health centres).
        skill: Mean skill of the facility's own doctors, 0–1.
        effective_skill: Mean skill of the doctors working there this year, rotated-in doctors included.
    """

    doctors: np.ndarray
    establishment: np.ndarray
    gps: np.ndarray
    skill: np.ndarray
    effective_skill: np.ndarray


def build(doctors: np.ndarray, tier: np.ndarray, params: WorkforceParams, residents: int, gps: np.ndarray) -> Staff:
    """Doctors at the build: the region's counts, the tier's skill, its GPs or GPs at health centres by their doctors.

    Args:
        doctors: (F,) doctors per facility (`Region.facility_doctors`).
        tier: (F,) tier of each facility.
        params: Workforce parameters.
        residents: Residents simulated (GPs per 10,000 of them).
        gps: (F,) general practitioners per facility (`Region.facility_gps`); all NaN: not known, so
            `params.gps_per_10000` of the residents, spread over health centres by their doctors.
    """
    skill = params.skill.as_array()[tier]
    known = not np.isnan(gps).all()
    return Staff(
        doctors=doctors.copy(),
        establishment=doctors.copy(),
        gps=gps.copy()
        if known
        else _at_health_centres(params.gps_per_10000 * residents / 10_000, doctors, tier, doctors),
        skill=skill,
        effective_skill=skill.copy(),
    )


def _at_health_centres(total: float, doctors: np.ndarray, tier: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """`total` GPs spread over health centres in proportion to their doctors, none above `cap` per facility."""
    weight = np.where(tier == HEALTH_CENTRE, doctors, 0.0)
    denominator = weight.sum()
    share = weight / denominator if denominator > 0 else weight
    return np.minimum(total * share, cap)


def pay_ratio(params: WorkforceParams, salary_reform: float, primary_pay_gap_closed: float) -> float:
    """Hospital ÷ primary pay this year: today's gap, narrowed by Sanming's salary reform and the 两个允许 lever."""
    narrowing = params.sanming_gap_narrowing if salary_reform > 0 else 0.0
    return 1.0 + (params.hospital_pay_ratio - 1.0) * (1.0 - narrowing) * (1.0 - primary_pay_gap_closed)


def migration_rate(params: WorkforceParams, ratio: float) -> float:
    """Share of primary doctors moving up this year: today's rate, in proportion to the pay gap."""
    return params.migration_rate * (ratio - 1.0) / (params.hospital_pay_ratio - 1.0)


def advance(
    staff: Staff,
    params: WorkforceParams,
    *,
    tier: np.ndarray,
    district: np.ndarray,
    ratio: float,
    residents: int,
) -> Staff:
    """One year's expected flows: retirement, migration up for pay, hiring of graduates, GP training.

    Args:
        staff: Last year's doctors.
        params: Workforce parameters.
        tier: (F,) tier of each facility.
        district: (F,) district of each facility: migrants move to its county hospitals.
        ratio: Hospital ÷ primary pay this year (`pay_ratio`).
        residents: Residents simulated (GP training per 10,000 of them).

    Returns:
        This year's doctors; `effective_skill` is their own skill (sending down adds to it: `rotate`).
    """
    primary = is_primary(tier)
    moving = np.where(primary, migration_rate(params, ratio), 0.0)
    staying = staff.doctors * (1.0 - params.retirement_rate) * (1.0 - moving)
    migrants = staff.doctors * (1.0 - params.retirement_rate) * moving
    # The better qualified leave: the stayers' mean falls by the leavers' premium times their share.
    stayers_skill = staff.skill - moving * params.migrant_skill_premium / (1.0 - moving)
    hospital = tier == SECONDARY
    arrived = np.bincount(district, weights=migrants, minlength=int(district.max()) + 1)
    hospital_doctors = np.bincount(district, weights=np.where(hospital, staying, 0.0), minlength=arrived.size)
    per_doctor = np.divide(arrived, hospital_doctors, out=np.zeros_like(arrived), where=hospital_doctors > 0)
    staying = np.where(hospital, staying * (1.0 + per_doctor[district]), staying)
    # Every facility refills its posts with graduates at its tier's skill; a hospital's newcomers
    # (graduates and doctors who came up) are trained to its standard, so its skill stays.
    hired = np.maximum(0.0, staff.establishment - staying)
    entry = params.skill.as_array()[tier]
    doctors = staying + hired
    skill = np.where(primary, (stayers_skill * staying + entry * hired) / np.maximum(doctors, 1e-12), staff.skill)
    trained = _at_health_centres(params.gp_training_per_10000 * residents / 10_000, staff.establishment, tier, doctors)
    gps = np.minimum(staff.gps * (1.0 - params.retirement_rate) * (1.0 - moving) + trained, doctors)
    return Staff(doctors=doctors, establishment=staff.establishment, gps=gps, skill=skill, effective_skill=skill)


def rotate(staff: Staff, share: float, *, tier: np.ndarray, consortium: np.ndarray, lead: np.ndarray) -> Staff:
    """Sending down (下沉): each consortium's lead rotates `share` of its doctors to its members of lower tiers.

    The rotated doctor-years are spread over those members in proportion to their own doctors; a
    member's effective skill is the mean of its own and the rotated doctors'. The lead's own skill
    is unchanged (it sends average doctors).

    Args:
        staff: This year's doctors.
        share: Share of a lead hospital's doctor-time spent at its members (0: no rotation).
        tier: (F,) tier of each facility.
        consortium: (F,) consortium of each facility (−1: none).
        lead: (consortia,) each consortium's lead hospital.
    """
    if share <= 0:
        return replace(staff, effective_skill=staff.skill)
    member = consortium >= 0
    own = np.where(member, consortium, 0)
    lead_of = lead[own]
    receives = member & (tier < tier[lead_of])
    weight = np.where(receives, staff.doctors, 0.0)
    pool = np.bincount(own, weights=weight, minlength=lead.size)
    sent = share * staff.doctors[lead]
    rotated = np.divide(sent[own] * weight, pool[own], out=np.zeros_like(weight), where=pool[own] > 0)
    mixed = (staff.doctors * staff.skill + rotated * staff.skill[lead_of]) / np.maximum(staff.doctors + rotated, 1e-12)
    return replace(staff, effective_skill=np.where(rotated > 0, mixed, staff.skill))
