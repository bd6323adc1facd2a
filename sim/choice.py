"""Where a patient seeks care: a random-utility (multinomial logit) choice among candidates.

A patient weighs routes (就医路径), one per candidate facility j: where j can treat the episode's
severity, the route is to be treated at j; where it cannot, j will see the patient and refer them up
(上转) to the cell's referral target r for that severity, so the route is "j first, then r" — for a
primary candidate, the route through the family doctor or health centre to a hospital. Utility of
candidate j's route for episode i:

    U_ij = tier_constant[tier_t] + quality[severity_i] · quality_t + cost · c(oop_ij)
         + travel · (hours_ij + hours_ir · onward_ij) + referral_step · onward_ij
         + wait · (W_j + onward_ij · W_r + p_i · A_t)
         + trust · (trust_i − ½) · primary_j + signed · signed_i · primary_j · own_consortium_ij
         + ε_ij,   ε Gumbel, keyed by (episode, j)

where onward_ij says j refers the episode on, t is where it is treated (r if onward, else j), W and A
are the learned outpatient and bed waits, p_i the episode's probability of needing a bed, and oop_ij
the route's expected out-of-pocket payment: the visit at j as a first contact (unreferred: any cut
for unreferred care applies), the referred visit at r if onward, and the stay, referred if j would
refer it. The patient takes the candidate of highest utility. Keying ε by episode keeps choices common
across scenarios: a policy that moves the deterministic part moves only the patients near the
margin. Because ε is drawn once per candidate, a turned-away patient's second choice is simply the
next-best candidate.

Staying home (self-care, 自我医疗: no visit, or the pharmacy) is the outside option of an acute minor
or moderate episode: its utility is U0[severity] + ε0, ε0 Gumbel keyed by (episode, slot K), a slot no
candidate uses, and the patient stays home when it beats the best candidate's route. Only the first
choice weighs it: a patient turned away later goes to the next-best candidate, as before. A price,
signing or gatekeeping lever that moves the candidates' utilities thus also moves how many ill
residents visit at all. Severe and complex episodes and chronic follow-ups always seek care.

Cost enters as c(oop) = ln(1 + oop/¥100) + cost_linear[severity] · oop/¥100, oop in the first year's yuan
deflated by income growth (`cost_value`): the logarithm
makes ¥100 at the margin of a cheap visit weigh like 30 minutes of travel (the DCE evidence in
`ChoiceParams`) and each extra yuan of a costly stay weigh less (diminishing sensitivity); the linear
part keeps large differences in what a stay costs from vanishing in the logarithm, so the price gaps
between levels and routes that insurance sets are felt.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np

from sim import rng
from sim.accel import kernel
from sim.parameters.choice import ChoiceParams
from sim.rules import is_primary


class CandidateTerms(NamedTuple):
    """The parts of every candidate's route utility that change at most once a year, per home cell.

    Attributes:
        attraction: (cells × severities, K) tier constant and quality term of where the route is
            treated, plus, on a route that is referred on, the travel on and the referral step; row
            cell × S + severity.
        travel: (cells, K) travel term to the candidate (0 where no candidate).
        onward: (cells × severities, K) facility the candidate refers the severity on to (−1: it
            treats it).
        primary: (cells, K) the candidate is primary care.
        available: (cells, K) the candidate exists.
        own_consortium: (cells, K) the candidate is in the cell's home consortium (the signed pull's).
        outside: (severities,) utility of staying home for an acute episode of each severity, before its
            taste shock (−inf: it always seeks care).
    """

    attraction: np.ndarray
    travel: np.ndarray
    onward: np.ndarray
    primary: np.ndarray
    available: np.ndarray
    own_consortium: np.ndarray
    outside: np.ndarray


class EpisodeTerms(NamedTuple):
    """The patient-specific inputs of the utilities besides the costs (`episode_terms`).

    Attributes:
        cost: Coefficient of `cost_value`.
        wait: Coefficient of the expected wait, per day.
        trust_term: (n,) trust in primary care, as a utility of primary candidates.
        signed_pull: (n,) pull of a signed patient's own consortium's primary care.
    """

    cost: float
    wait: float
    trust_term: np.ndarray
    signed_pull: np.ndarray


def onward_targets(candidates: np.ndarray, capability: np.ndarray, referral: np.ndarray) -> np.ndarray:
    """(cells, severities, K) where each candidate refers each severity on (the cell's target; −1: it treats it).

    Args:
        candidates: (cells, K) candidate facilities (−1: none).
        capability: (F,) highest severity each facility treats as outpatients.
        referral: (cells, severities) the cell's outpatient referral target (上转) for each severity (−1: none).
    """
    severity = np.arange(referral.shape[1])[None, :, None]
    incapable = (candidates[:, None, :] >= 0) & (capability[np.maximum(candidates, 0)][:, None, :] < severity)
    return np.where(incapable, referral[:, :, None], -1)


def candidate_terms(
    params: ChoiceParams,
    *,
    candidates: np.ndarray,
    facility_tier: np.ndarray,
    facility_quality: np.ndarray,
    hours: np.ndarray,
    onward: np.ndarray,
    own_consortium: np.ndarray,
) -> CandidateTerms:
    """Route utility terms of each cell's candidates that do not depend on the day or the patient.

    Args:
        params: Choice coefficients.
        candidates: (cells, K) candidate facilities (−1: none).
        facility_tier: (F,) tier of each facility.
        facility_quality: (F,) quality score of each facility, 0–1.
        hours: (cells, K) travel time to each candidate.
        onward: (cells, severities, K) `onward_targets`; a target is one of the cell's candidates.
        own_consortium: (cells, K) the candidate is in the cell's home consortium.
    """
    n_cells, k = candidates.shape
    available = candidates >= 0
    referred_on = onward >= 0
    treated_at = np.where(referred_on, onward, np.maximum(candidates, 0)[:, None, :])
    severity = np.arange(onward.shape[1])[None, :, None]
    attraction = (
        params.tier_constant.as_array()[facility_tier[treated_at]]
        + params.quality.as_array()[severity] * facility_quality[treated_at]
    )
    # Travel on to the target: the time from the cell to that candidate.
    slot = np.argmax(candidates[:, None, None, :] == onward[..., None], axis=-1)
    hours_on = np.take_along_axis(hours[:, None, :], slot.reshape(n_cells, -1)[:, None, :], axis=2).reshape(slot.shape)
    attraction = attraction + np.where(referred_on, params.travel * hours_on + params.referral_step, 0.0)
    return CandidateTerms(
        attraction=attraction.reshape(-1, k),
        travel=params.travel * np.where(available, hours, 0.0),
        onward=onward.reshape(-1, k).astype(np.int64),
        primary=is_primary(facility_tier[np.maximum(candidates, 0)]),
        available=available,
        own_consortium=own_consortium,
        outside=outside_utility(params, onward.shape[1]),
    )


def outside_utility(params: ChoiceParams, n_severities: int) -> np.ndarray:
    """(severities,) utility of staying home for an acute episode of each severity (−inf: always seeks care)."""
    outside = np.full(n_severities, -np.inf)
    if params.self_care:
        values = params.self_care_utility.as_array()
        outside[: values.size] = values
    return outside


def utilities(
    params: ChoiceParams,
    terms: CandidateTerms,
    *,
    cell: np.ndarray,
    severity: np.ndarray,
    candidates: np.ndarray,
    cost: np.ndarray,
    facility_wait: np.ndarray,
    admission_wait: np.ndarray,
    admission_probability: np.ndarray,
    trust: np.ndarray,
    signed: np.ndarray,
    shocks: np.ndarray,
) -> np.ndarray:
    """Utility of every candidate's route, taste shock included (−inf where unavailable).

    Args:
        params: Choice coefficients.
        terms: This year's candidate terms (`candidate_terms`).
        cell: (n,) home cell of each episode's patient.
        severity: (n,) severity of each episode.
        candidates: (n, K) candidate facilities (−1: none).
        cost: (n, K) `cost_value` of the route's expected out-of-pocket payment.
        facility_wait: (F,) expected outpatient wait at each facility, days.
        admission_wait: (F,) expected wait for a bed at each facility, days.
        admission_probability: (n,) probability the episode needs a bed: the expected wait of a
            route is its outpatient waits plus this times the bed wait where it is treated.
        trust: (n,) trust in primary care.
        signed: (n,) signed with a family doctor.
        shocks: (n, K) taste shocks (`taste_shocks`), added last.

    Returns:
        (n, K) utilities.
    """
    return _episode_utilities(
        terms,
        cell,
        severity,
        candidates,
        cost,
        facility_wait,
        admission_wait,
        admission_probability,
        episode_terms(params, trust, signed),
        shocks,
    )


def cost_value(oop: np.ndarray, linear: np.ndarray | float, income_level: float) -> np.ndarray:
    """ln(1 + x/¥100) + linear · x/¥100 of x = oop ÷ income_level: the utilities' cost term, in numpy (see `accel`).

    Payments are weighed against income: in the first year's yuan deflated by income growth, so bills
    that rise no faster than incomes do not move patients between tiers year by year.

    Args:
        oop: Expected out-of-pocket payment, yuan.
        linear: Weight of the linear part (`ChoiceParams.cost_linear` of the episode's severity),
            broadcast with `oop`.
        income_level: This year's income relative to the first year's.
    """
    scaled = oop / (100.0 * income_level)
    return np.log1p(scaled) + linear * scaled


def cost_transform(params: ChoiceParams, year: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """`cost_value` of (oop, severity) under the scenario's weights in `year` (the cost tables' transform)."""
    income_level = (1.0 + float(params.income_growth)) ** year
    return partial(_cost_by_severity, linear=params.cost_linear.as_array(), income_level=income_level)


def _cost_by_severity(oop: np.ndarray, severity: np.ndarray, linear: np.ndarray, income_level: float) -> np.ndarray:
    """`cost_value` with the linear weight of each entry's severity."""
    return cost_value(oop, linear[severity], income_level)


def episode_terms(params: ChoiceParams, trust: np.ndarray, signed: np.ndarray) -> EpisodeTerms:
    """The patient-specific inputs of the utilities kernel besides the costs (`cost_value`).

    Args:
        params: Choice coefficients.
        trust: (n,) trust in primary care.
        signed: (n,) signed with a family doctor.

    """
    return EpisodeTerms(
        float(params.cost),
        float(params.wait),
        params.trust * (trust - 0.5),
        params.signed * signed,
    )


@kernel
def _episode_utilities(
    terms: CandidateTerms,
    cell: np.ndarray,
    severity: np.ndarray,
    candidates: np.ndarray,
    cost_values: np.ndarray,
    facility_wait: np.ndarray,
    admission_wait: np.ndarray,
    admission_probability: np.ndarray,
    episode: EpisodeTerms,
    shocks: np.ndarray,
) -> np.ndarray:
    """(n, K) utilities of the episodes' candidate routes, taste shocks added last (`utilities`)."""
    attraction, travel, onward, primary, available, own_consortium, _ = terms
    cost, wait, trust_term, signed_pull = episode
    n, k = cost_values.shape
    u = np.empty((n, k))
    n_sev = attraction.shape[0] // travel.shape[0]
    for i in range(n):
        c = cell[i]
        row = c * n_sev + severity[i]
        for j in range(k):
            if not available[c, j]:
                u[i, j] = -np.inf + shocks[i, j]
                continue
            f = max(candidates[i, j], 0)
            on_primary = primary[c, j]
            x = attraction[row, j] + cost * cost_values[i, j]
            x = x + travel[c, j]
            r = onward[row, j]
            if r >= 0:
                x = x + wait * (facility_wait[f] + facility_wait[r] + admission_probability[i] * admission_wait[r])
            else:
                x = x + wait * (facility_wait[f] + admission_probability[i] * admission_wait[f])
            x = x + trust_term[i] * (1.0 if on_primary else 0.0)
            x = x + signed_pull[i] * (1.0 if on_primary and own_consortium[c, j] else 0.0)
            u[i, j] = x + shocks[i, j]
    return u


def taste_shocks(seed: int, key: np.ndarray, n_candidates: int) -> np.ndarray:
    """(n, K + 1) Gumbel shocks keyed by episode and slot: the K candidates', then the outside option's (slot K)."""
    return rng.gumbel(seed, "choice.shock", key[:, None], np.arange(n_candidates + 1)[None, :])


def choose(total_utility: np.ndarray) -> np.ndarray:
    """Index of the best candidate of each row (the patient's choice)."""
    return np.argmax(total_utility, axis=1)
