"""Where a patient seeks care: a random-utility (multinomial logit) choice among candidates.

Utility of candidate facility j for episode i:

    U_ij = tier_constant[tier_j] + quality[severity_i] · quality_j + cost · ln(1 + oop_ij / 100)
         + travel · hours_ij + wait · expected_wait_j + incapable · [capability_j < severity_i]
         + trust · (trust_i − ½) · primary_j + signed · signed_i · primary_j · own_consortium_ij
         + ε_ij,   ε Gumbel, keyed by (episode, j)

The patient takes the candidate of highest utility. Keying ε by episode keeps choices common
across scenarios: a policy that moves the deterministic part moves only the patients near the
margin. Because ε is drawn once per candidate, a turned-away patient's second choice is simply the
next-best candidate.

Cost enters as ln(1 + out-of-pocket/¥100): at the margin of a cheap visit ¥100 weighs like 30 minutes
of travel (the DCE evidence below), while for a stay costing thousands each extra yuan weighs less
(diminishing sensitivity), so a ¥4,000 stay is not weighed like forty minor visits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import rng
from sim.accel import kernel
from sim.parameters.choice import ChoiceParams
from sim.parameters.illness import SEVERITIES
from sim.rules import is_primary


class CandidateTerms(NamedTuple):
    """The parts of every candidate's utility that change at most once a year, per home cell.

    Attributes:
        attraction: (cells × severities, K) tier constant plus the quality term, row cell × S + severity.
        travel: (cells, K) travel term (0 where no candidate).
        incapable: (cells × severities, K) penalty where the candidate cannot treat the severity.
        primary: (cells, K) the candidate is primary care.
        available: (cells, K) the candidate exists.
        own_consortium: (cells, K) the candidate is in the cell's home consortium (the signed pull's).
    """

    attraction: np.ndarray
    travel: np.ndarray
    incapable: np.ndarray
    primary: np.ndarray
    available: np.ndarray
    own_consortium: np.ndarray


class EpisodeTerms(NamedTuple):
    """The patient-specific inputs of the utilities besides the costs (`episode_terms`).

    Attributes:
        cost: Coefficient of `log_cost`.
        wait: Coefficient of the expected wait, per day.
        trust_term: (n,) trust in primary care, as a utility of primary candidates.
        signed_pull: (n,) pull of a signed patient's own consortium's primary care.
    """

    cost: float
    wait: float
    trust_term: np.ndarray
    signed_pull: np.ndarray


def candidate_terms(
    params: ChoiceParams,
    *,
    tier: np.ndarray,
    quality: np.ndarray,
    capability: np.ndarray,
    hours: np.ndarray,
    available: np.ndarray,
    own_consortium: np.ndarray,
) -> CandidateTerms:
    """Utility terms of each cell's candidates that do not depend on the day or the patient.

    Args:
        params: Choice coefficients.
        tier: (cells, K) tier of each candidate.
        quality: (cells, K) quality score of each candidate, 0–1.
        capability: (cells, K) highest severity each candidate treats.
        hours: (cells, K) travel time.
        available: (cells, K) the candidate exists.
        own_consortium: (cells, K) the candidate is in the cell's home consortium.
    """
    n_sev = len(SEVERITIES)
    severity = np.arange(n_sev)[None, :, None]
    attraction = (
        params.tier_constant.as_array()[tier][:, None, :] + params.quality.as_array()[severity] * quality[:, None, :]
    )
    incapable = params.incapable * (capability[:, None, :] < severity)
    k = tier.shape[1]
    return CandidateTerms(
        attraction=attraction.reshape(-1, k),
        travel=params.travel * np.where(available, hours, 0.0),
        incapable=incapable.reshape(-1, k),
        primary=is_primary(tier),
        available=available,
        own_consortium=own_consortium,
    )


def utilities(
    params: ChoiceParams,
    terms: CandidateTerms,
    *,
    cell: np.ndarray,
    severity: np.ndarray,
    candidates: np.ndarray,
    log_cost: np.ndarray,
    facility_wait: np.ndarray,
    admission_wait: np.ndarray,
    admission_probability: np.ndarray,
    trust: np.ndarray,
    signed: np.ndarray,
    shocks: np.ndarray,
) -> np.ndarray:
    """Utility of every candidate, taste shock included (−inf where unavailable).

    Args:
        params: Choice coefficients.
        terms: This year's candidate terms (`candidate_terms`).
        cell: (n,) home cell of each episode's patient.
        severity: (n,) severity of each episode.
        candidates: (n, K) candidate facilities (−1: none).
        log_cost: (n, K) `log_cost` of the expected out-of-pocket payment.
        facility_wait: (F,) expected outpatient wait at each facility, days.
        admission_wait: (F,) expected wait for a bed at each facility, days.
        admission_probability: (n,) probability the episode needs a bed: the expected wait at a
            candidate is its outpatient wait plus this times its bed wait.
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
        log_cost,
        facility_wait,
        admission_wait,
        admission_probability,
        episode_terms(params, trust, signed),
        shocks,
    )


def log_cost(oop: np.ndarray) -> np.ndarray:
    """ln(1 + oop/¥100): the cost term of the utilities, in numpy (see `accel`).

    Args:
        oop: Expected out-of-pocket payment, yuan.
    """
    return np.log1p(oop / 100.0)


def episode_terms(params: ChoiceParams, trust: np.ndarray, signed: np.ndarray) -> EpisodeTerms:
    """The patient-specific inputs of the utilities kernel besides the costs (`log_cost`).

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
    log_cost: np.ndarray,
    facility_wait: np.ndarray,
    admission_wait: np.ndarray,
    admission_probability: np.ndarray,
    episode: EpisodeTerms,
    shocks: np.ndarray,
) -> np.ndarray:
    """(n, K) utilities of the episodes' candidates, taste shocks added last (`utilities`)."""
    attraction, travel, incapable, primary, available, own_consortium = terms
    cost, wait, trust_term, signed_pull = episode
    n, k = log_cost.shape
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
            x = attraction[row, j] + cost * log_cost[i, j]
            x = x + travel[c, j]
            x = x + wait * (facility_wait[f] + admission_probability[i] * admission_wait[f])
            x = x + incapable[row, j]
            x = x + trust_term[i] * (1.0 if on_primary else 0.0)
            x = x + signed_pull[i] * (1.0 if on_primary and own_consortium[c, j] else 0.0)
            u[i, j] = x + shocks[i, j]
    return u


def taste_shocks(seed: int, key: np.ndarray, n_candidates: int) -> np.ndarray:
    """(n, K) Gumbel shocks keyed by episode and candidate slot."""
    return rng.gumbel(seed, "choice.shock", key[:, None], np.arange(n_candidates)[None, :])


def choose(total_utility: np.ndarray) -> np.ndarray:
    """Index of the best candidate of each row (the patient's choice)."""
    return np.argmax(total_utility, axis=1)
