"""Episodes of illness: who falls ill, when, how severely, and whether they need a bed.

Each resident's episodes of a year are a Poisson process drawn from the resident's own keyed
stream (exponential gaps, `rng.exponential` keyed by year, resident and event number), so cost
grows with episodes, not residents × days, and a policy never reshuffles who falls ill. A policy
that lowers a rate (e.g. chronic-disease management) thins the same candidate events with a keyed
acceptance draw instead of redrawing them, so the episodes it keeps are the baseline's.

Two streams:
- acute episodes for everyone, at a rate by age group, higher for chronic patients;
- chronic follow-up visits (慢病随访) for residents with hypertension or diabetes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import rng
from sim.accel import kernel
from sim.arrays import Buffers
from sim.params import StrictModel, by_tier, param, table_field

ACUTE, FOLLOW_UP = 0, 1
SEVERITIES = ("minor", "moderate", "severe", "complex")
DAYS_PER_YEAR = 365


AdmissionProbability = by_tier(
    "AdmissionProbability",
    (0.0, 0.07, 0.35, 0.85),
    "probability",
    "calibrated to DOMAIN.md: admissions ≈0.18–0.21 per capita (2022–23)",
    "Probability that an acute episode needs admission, by severity",
    ge=0.0,
    le=1.0,
    keys=SEVERITIES,
)

LengthOfStay = by_tier(
    "LengthOfStay",
    (0.0, 7.7, 8.9, 9.2),
    "days",
    "calibrated so simulated stays are ≈ township 6.5, secondary 8.6, tertiary 9.2 days (yearbook, approx.; "
    "DOMAIN.md: hospitals 8.8 days in 2023)",
    "Mean length of stay of a severe case, by tier of the admitting facility (severity factors scale it)",
    ge=0.0,
    le=100.0,
)

SeverityStayFactor = by_tier(
    "SeverityStayFactor",
    (0.7, 0.85, 1.0, 1.2),
    "×",
    "assumption",
    "Length-of-stay multiplier by severity",
    ge=0.1,
    le=10.0,
    keys=SEVERITIES,
)


class IllnessParams(StrictModel):
    """Incidence, severity and need for admission."""

    acute_rate_adult: float = param(
        3.6,
        "episodes per resident-year",
        "calibrated to DOMAIN.md: ≈6.0–6.8 visits per capita (2022–23)",
        "Acute episodes of a 15–59-year-old without chronic disease.",
        ge=0,
        le=50,
    )
    child_rate_factor: float = param(
        1.6, "×", "assumption: children under 15 visit more", "Acute rate multiplier, ages 0–14.", ge=0, le=10
    )
    elderly_rate_factor: float = param(
        1.7, "×", "assumption: 60+ visit more", "Acute rate multiplier, ages 60+.", ge=0, le=10
    )
    chronic_rate_factor: float = param(
        1.3,
        "×",
        "assumption: exacerbations and comorbidity",
        "Acute rate multiplier for chronic patients.",
        ge=0,
        le=10,
    )
    follow_up_rate: float = param(
        4.0,
        "visits per chronic patient-year",
        "NBPHS: quarterly follow-up of managed hypertension/diabetes",
        "Chronic follow-up visits of a resident with hypertension or diabetes.",
        ge=0,
        le=52,
    )
    utilisation_growth: float = param(
        0.025,
        "per year",
        "DOMAIN.md: visits 8.72 bn (2019) → 9.55 bn (2023), ≈2.3%/yr",
        "Yearly growth of acute and follow-up rates (ageing, rising use).",
        ge=-0.5,
        le=0.5,
    )
    severity_moderate: float = param(
        0.20,
        "share of acute episodes",
        "assumption",
        "Share of adults' acute episodes that are moderate.",
        ge=0,
        le=1,
    )
    severity_severe: float = param(
        0.06, "share", "assumption", "Share of adults' acute episodes that are severe.", ge=0, le=1
    )
    severity_complex: float = param(
        0.004, "share", "assumption", "Share of adults' acute episodes that are complex.", ge=0, le=1
    )
    elderly_severity_factor: float = param(
        1.6, "×", "assumption", "Multiplier of non-minor shares for residents 60+.", ge=0, le=5
    )
    admission_probability: AdmissionProbability = table_field(AdmissionProbability)
    length_of_stay: LengthOfStay = table_field(LengthOfStay)
    severity_stay_factor: SeverityStayFactor = table_field(SeverityStayFactor)
    stay_dispersion: float = param(
        0.5,
        "sd of log days",
        "assumption",
        "Spread of length of stay around its mean (lognormal).",
        ge=0,
        le=3,
    )


@dataclass
class Episodes:
    """A batch of episodes (struct of arrays), sorted by day.

    Attributes:
        resident: Who is ill.
        day: Day of the year the episode starts (0–364).
        kind: ACUTE or FOLLOW_UP.
        severity: 0 minor … 3 complex.
        admission_draw: Keyed uniform draw: the episode needs a bed when it is below the admission
            probability of its severity (times the treating facility's admission propensity).
        key: 64-bit key of the episode; every later draw about it is keyed by this.
    """

    resident: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    severity: np.ndarray
    admission_draw: np.ndarray
    key: np.ndarray

    def __len__(self) -> int:
        return int(self.resident.size)

    def take(self, index: np.ndarray | slice) -> Episodes:
        """A sub-batch."""
        return Episodes(
            self.resident[index],
            self.day[index],
            self.kind[index],
            self.severity[index],
            self.admission_draw[index],
            self.key[index],
        )


def acute_rate(age: np.ndarray, chronic: np.ndarray, params: IllnessParams) -> np.ndarray:
    """Acute episodes per resident-year before growth."""
    factor = np.where(age < 15, params.child_rate_factor, np.where(age >= 60, params.elderly_rate_factor, 1.0))
    return params.acute_rate_adult * factor * np.where(chronic, params.chronic_rate_factor, 1.0)


def severity_shares(age: np.ndarray, params: IllnessParams) -> np.ndarray:
    """(n, 4) probabilities of each severity for an acute episode."""
    upper = np.array([params.severity_moderate, params.severity_severe, params.severity_complex])
    by_group = np.minimum(np.stack([upper, upper * params.elderly_severity_factor]), 1.0 / 3.0)
    by_group = np.concatenate([1.0 - by_group.sum(axis=1, keepdims=True), by_group], axis=1)
    return by_group[(age >= 60).astype(np.int64)]


def poisson_events(
    seed: int, stream: str, year: int, residents: np.ndarray, rate: np.ndarray, buffers: Buffers | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event days of a yearly Poisson process per resident, from keyed exponential gaps.

    Args:
        seed: Run seed.
        stream: Stream name.
        year: Simulated year (0-based); a key of every draw.
        residents: Resident ids.
        rate: Events per year of each resident.
        buffers: Where to write the events (in arrays named after the stream); default new arrays.

    Returns:
        (resident, day, event number) of every event, unsorted: by event number, then as `residents`.
    """
    buffers = Buffers() if buffers is None else buffers
    active = np.flatnonzero(rate > 0)
    # The active residents' id, clock (days), rate and hashed keys; the kernel keeps them in front.
    state = (residents[active], np.zeros(active.size), rate[active], rng.bits(seed, stream, year, residents[active]))
    units = rng.uniform_open_after(state[3], 0)  # each event number continues from the hashed keys
    # A round adds at most `size` events: room for the expected number and a first round more is
    # almost always enough.
    capacity = int(state[2].sum()) + active.size
    events = [
        buffers.get(f"{stream}.{field}", capacity, dtype)
        for field, dtype in (("resident", residents.dtype), ("day", np.int16), ("event", np.int16))
    ]
    size, n, k = active.size, 0, 0
    while size:
        if n + size > capacity:
            capacity = n + size
            events = [np.concatenate([e[:n], np.empty(size, e.dtype)]) for e in events]
        # Gaps are −ln u: numpy takes the logarithm (see `accel`), a kernel the rest.
        np.log(units[:size], out=units[:size])
        size, n = _advance(*state, units, size, k, *events, n)
        k += 1
    return events[0][:n], events[1][:n], events[2][:n]


def _advance_numpy(
    who: np.ndarray,
    t: np.ndarray,
    rate: np.ndarray,
    hashed: np.ndarray,
    units: np.ndarray,
    size: int,
    k: int,
    out_r: np.ndarray,
    out_d: np.ndarray,
    out_k: np.ndarray,
    n: int,
) -> tuple[int, int]:
    t[:size] += np.negative(units[:size]) / rate[:size] * DAYS_PER_YEAR
    within = t[:size] < DAYS_PER_YEAR
    m = int(np.count_nonzero(within))
    for a in (who, t, rate, hashed):
        a[:m] = a[:size][within]
    out_r[n : n + m] = who[:m]
    out_d[n : n + m] = t[:m].astype(np.int16)
    out_k[n : n + m] = k
    units[:m] = rng.uniform_open_after(hashed[:m], k + 1)
    return m, n + m


@kernel(_advance_numpy)
def _advance(
    who: np.ndarray,
    t: np.ndarray,
    rate: np.ndarray,
    hashed: np.ndarray,
    units: np.ndarray,
    size: int,
    k: int,
    out_r: np.ndarray,
    out_d: np.ndarray,
    out_k: np.ndarray,
    n: int,
) -> tuple[int, int]:
    """Event `k` of the first `size` residents: their clock `t` moves on by the gap −ln u / rate.

    Residents whose clock is still within the year have the event, written at `n` of the `out_`
    arrays (resident, day, event number), and stay active: they move to the front of `who`, `t`,
    `rate`, `hashed` and, with their uniform draw for event k + 1, of `units`, which held ln u.

    Returns:
        The number of residents still active and the number of events written in all.
    """
    m = 0
    for j in range(size):
        tj = t[j] + -units[j] / rate[j] * DAYS_PER_YEAR
        if tj < DAYS_PER_YEAR:
            out_r[n + m], out_d[n + m], out_k[n + m] = who[j], np.int16(tj), k
            who[m], t[m], rate[m], hashed[m] = who[j], tj, rate[j], hashed[j]
            units[m] = rng.unit_float(rng.hash_word(hashed[j], k + 1), 0.5)
            m += 1
    return m, n + m


def draw_year(
    seed: int,
    year: int,
    age: np.ndarray,
    chronic: np.ndarray,
    params: IllnessParams,
    keep: np.ndarray | None = None,
    *,
    first_day: int = 0,
    buffers: Buffers | None = None,
) -> Episodes:
    """All episodes of one simulated year from `first_day` on, sorted by day.

    Args:
        seed: Run seed.
        year: Simulated year (0-based).
        age: Age of every resident this year.
        chronic: Chronic status of every resident.
        params: Illness parameters.
        keep: Optional per-resident acceptance probability (≤1) of acute episodes, e.g. the
            effect of chronic-disease management; the thinning draw is keyed, so the episodes a
            scenario keeps are a subset of the baseline's.
        first_day: Episodes of earlier days are dropped before their draws are made (a run's
            warm-up starts late in year −1). The later episodes are the same.
        buffers: Where to write the episodes and the draws on the way; default new arrays. The
            episodes of a `draw_year` with the same buffers are overwritten.

    Returns:
        The year's episodes.
    """
    buffers = Buffers() if buffers is None else buffers
    ids = np.arange(age.size, dtype=np.int64)
    growth = (1.0 + params.utilisation_growth) ** max(year, 0)
    rate = acute_rate(age, chronic, params) * growth
    candidates = poisson_events(seed, "illness.acute", year, ids, rate, buffers)
    # Buffers are made for a whole year's episodes, however many are kept: the next year needs them.
    whole_year = candidates[0].size
    acute = _acute(seed, year, age, params, keep, *_from_day(first_day, *candidates), buffers, whole_year)
    del candidates
    chronic_ids = ids[chronic]
    follow_up_rate = np.full(chronic_ids.size, params.follow_up_rate * growth)
    r_f, d_f, k_f = poisson_events(seed, "illness.follow_up", year, chronic_ids, follow_up_rate, buffers)
    whole_year += r_f.size
    r_f, d_f, k_f = _from_day(first_day, r_f, d_f, k_f)
    follow_up = (r_f, d_f, rng.bits(seed, "illness.key.follow_up", year, r_f, k_f))
    del r_f, d_f, k_f
    return _by_arrival(acute, follow_up, rng.stream_key(seed, "illness.admission"), buffers, whole_year)


def _from_day(first_day: int, resident: np.ndarray, day: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, ...]:
    """Events (resident, day, event number) on or after `first_day`, in their order."""
    if first_day <= 0:
        return resident, day, event
    kept = day >= first_day
    return resident[kept], day[kept], event[kept]


_Acute = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Acute episodes as (resident, day, key, severity)."""
_FollowUps = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Follow-up visits as (resident, day, key)."""
_Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Episodes as (resident, day, kind, severity, key)."""


def _acute(
    seed: int,
    year: int,
    age: np.ndarray,
    params: IllnessParams,
    keep: np.ndarray | None,
    resident: np.ndarray,
    day: np.ndarray,
    event: np.ndarray,
    buffers: Buffers,
    reserve: int,
) -> _Acute:
    """Acute episodes from candidate events (resident, day, event number; overwritten), thinned by `keep`.

    Their keys and severities are written in `buffers`, made with room for `reserve` episodes.
    """
    everyone = np.arange(age.size)
    # Each draw hashes (year, resident) once per resident, then an episode's event number.
    key_words = rng.bits(seed, "illness.key.acute", year, everyone)
    if keep is None:
        keep_words, keep = np.zeros(0, np.uint64), np.zeros(0)
    else:
        keep_words = rng.bits(seed, "illness.keep", year, everyone)
    # Severity: how many cumulative shares (by age, far fewer ages than episodes) the draw reaches.
    thresholds = np.cumsum(severity_shares(np.arange(age.max() + 1), params), axis=1)
    severity_word = rng.stream_key(seed, "illness.severity")
    key = buffers.get("illness.acute.key", resident.size, np.uint64, reserve=reserve)
    severity = buffers.get("illness.acute.severity", resident.size, np.int8, reserve=reserve)
    n = _acute_draws(resident, day, event, keep_words, keep, key_words, severity_word, age, thresholds, key, severity)
    return resident[:n], day[:n], key[:n], severity[:n]


def _acute_draws_numpy(
    resident: np.ndarray,
    day: np.ndarray,
    event: np.ndarray,
    keep_words: np.ndarray,
    keep: np.ndarray,
    key_words: np.ndarray,
    severity_word: np.uint64,
    age: np.ndarray,
    thresholds: np.ndarray,
    key: np.ndarray,
    severity: np.ndarray,
) -> int:
    if keep.size:
        accepted = rng.uniform_after(keep_words[resident], event) < keep[resident]
        n = int(np.count_nonzero(accepted))
        for a in (resident, day, event):
            a[:n] = a[accepted]
    else:
        n = resident.size
    resident, event = resident[:n], event[:n]
    key[:n] = rng.bits_after(key_words[resident], event)
    u = rng.uniform_after(severity_word, key[:n])
    reached = np.zeros(n, dtype=np.int8)
    for column in thresholds.T:
        reached += u >= column[age[resident]]
    np.minimum(reached, 3, out=severity[:n])
    return n


@kernel(_acute_draws_numpy)
def _acute_draws(
    resident: np.ndarray,
    day: np.ndarray,
    event: np.ndarray,
    keep_words: np.ndarray,
    keep: np.ndarray,
    key_words: np.ndarray,
    severity_word: np.uint64,
    age: np.ndarray,
    thresholds: np.ndarray,
    key: np.ndarray,
    severity: np.ndarray,
) -> int:
    """Keyed draws of acute episodes (resident, day, event number): acceptance, key and severity.

    Episodes are thinned in place when `keep` (acceptance probability by resident) is not empty:
    each is kept when `rng.uniform_after(keep_words[resident], event) < keep[resident]`. The first
    n (returned) of `key` and `severity` are set for those kept: the key is
    `rng.bits_after(key_words[resident], event)`, the severity is the number of the resident's
    age's cumulative shares (`thresholds`) that `rng.uniform_after(severity_word, key)` reaches
    (at most 3).
    """
    n = 0
    for i in range(resident.size):
        r = resident[i]
        if keep.size and not rng.unit_float(rng.hash_word(keep_words[r], event[i]), 0.0) < keep[r]:
            continue
        resident[n], day[n] = r, day[i]
        k = rng.hash_word(key_words[r], event[i])
        u = rng.unit_float(rng.hash_word(severity_word, k), 0.0)
        reached = 0
        for column in range(thresholds.shape[1]):
            reached += u >= thresholds[age[r], column]
        key[n], severity[n] = k, min(reached, 3)
        n += 1
    return n


def _arrival(day: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Sort words: by day, then in the random order of the episode keys (the order patients arrive in a day)."""
    return (day.astype(np.uint64) << np.uint64(55)) | (key >> np.uint64(9))


def _by_arrival(
    acute: _Acute, follow_up: _FollowUps, admission_word: np.uint64, buffers: Buffers, reserve: int
) -> Episodes:
    """Acute episodes and follow-up visits sorted by `_arrival` word, with their admission draws.

    The episodes are written in `buffers`, made with room for `reserve` episodes.

    The order has always been numpy's quicksort of the words (`np.argsort`), which is not stable:
    episodes that tie on their word are in whatever order it left them. A stable sort gives the
    same permutation when the words are distinct; when two are not (two keys of a day equal in
    their leading 55 bits: about once in 10**5 years of 2.5 million residents), the quicksort is
    redone on the words in their original order (acute episodes, then follow-ups).
    """
    n = acute[0].size + follow_up[0].size
    out = [buffers.get(f"illness.episodes.{name}", n, dtype, reserve=reserve) for name, dtype in _EPISODE_FIELDS]
    if _sort_by_arrival(acute, follow_up, admission_word, *out):
        batch = _concatenated(acute, follow_up)
        order = np.argsort(_arrival(batch[1], batch[4]))
        resident, day, kind, severity, key = (field.take(order) for field in batch)
        out = [resident, day, kind, severity, _admission_draws(admission_word, key, kind), key]
    return Episodes(*out)


_EPISODE_FIELDS = (
    ("resident", np.int64),
    ("day", np.int16),
    ("kind", np.int8),
    ("severity", np.int8),
    ("admission_draw", np.float64),
    ("key", np.uint64),
)


def _admission_draws(word: np.uint64, key: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Keyed uniform draws of episodes (`word` is the stream's); follow-up visits never need a bed."""
    draw = rng.uniform_after(word, key)
    np.copyto(draw, 1.0, where=kind == FOLLOW_UP)
    return draw


def _concatenated(acute: _Acute, follow_up: _FollowUps) -> _Batch:
    r_a, d_a, key_a, severity_a = acute
    r_f, d_f, key_f = follow_up
    return (
        np.concatenate([r_a, r_f]),
        np.concatenate([d_a, d_f]),
        np.concatenate([np.full(r_a.size, ACUTE, np.int8), np.full(r_f.size, FOLLOW_UP, np.int8)]),
        np.concatenate([severity_a, np.zeros(r_f.size, np.int8)]),
        np.concatenate([key_a, key_f]),
    )


def _sort_by_arrival_numpy(
    acute: _Acute,
    follow_up: _FollowUps,
    admission_word: np.uint64,
    resident: np.ndarray,
    day: np.ndarray,
    kind: np.ndarray,
    severity: np.ndarray,
    admission_draw: np.ndarray,
    key: np.ndarray,
) -> int:
    batch = _concatenated(acute, follow_up)
    arrival = _arrival(batch[1], batch[4])
    order = np.argsort(arrival, kind="stable")
    for field, out in zip(batch, (resident, day, kind, severity, key), strict=True):
        field.take(order, out=out)
    admission_draw[:] = _admission_draws(admission_word, key, kind)
    arrival = arrival.take(order)
    return int(np.count_nonzero(arrival[1:] == arrival[:-1]))


@kernel(_sort_by_arrival_numpy)
def _sort_by_arrival(
    acute: _Acute,
    follow_up: _FollowUps,
    admission_word: np.uint64,
    resident: np.ndarray,
    day: np.ndarray,
    kind: np.ndarray,
    severity: np.ndarray,
    admission_draw: np.ndarray,
    key: np.ndarray,
) -> int:
    """Stable sort by `_arrival` word of acute episodes, then follow-ups, into the `Episodes` fields.

    A counting sort by day; then, within each day (in cache), a counting sort by the leading bits
    of the key (keys are uniform: about one episode a bucket) and an insertion sort by the rest of
    the arrival word. The admission draws are `_admission_draws(admission_word, key, kind)`. Days
    must be in [0, DAYS_PER_YEAR) and resident ids below 2**56.

    Returns:
        The number of neighbours with equal arrival words.
    """
    r_a, d_a, key_a, severity_a = acute
    r_f, d_f, key_f = follow_up
    # By day. Until a day is sorted, `resident` holds the resident with the severity in its top
    # byte, or ~resident for a follow-up.
    start = np.zeros(DAYS_PER_YEAR + 1, dtype=np.int64)
    for d in d_a:
        start[d + 1] += 1
    for d in d_f:
        start[d + 1] += 1
    for d in range(DAYS_PER_YEAR):
        start[d + 1] += start[d]
    fill = start[:-1].copy()
    for i in range(r_a.size):
        at = fill[d_a[i]]
        fill[d_a[i]] = at + 1
        resident[at], key[at] = r_a[i] | np.int64(severity_a[i]) << 56, key_a[i]
    for i in range(r_f.size):
        at = fill[d_f[i]]
        fill[d_f[i]] = at + 1
        resident[at], key[at] = ~r_f[i], key_f[i]

    most = np.max(start[1:] - start[:-1])
    day_key = np.empty(most, dtype=np.uint64)
    day_resident = np.empty(most, dtype=np.int64)
    low = np.uint64(9)
    ties = 0
    for d in range(DAYS_PER_YEAR):
        lo, hi = start[d], start[d + 1]
        m = hi - lo
        width = 1
        while width < 30 and 1 << width < m:
            width += 1
        shift = np.uint64(64 - width)
        bucket_start = np.zeros((1 << width) + 1, dtype=np.int64)
        for k in key[lo:hi]:
            bucket_start[(k >> shift) + 1] += 1
        for b in range(1 << width):
            bucket_start[b + 1] += bucket_start[b]
        for j in range(lo, hi):
            b = key[j] >> shift
            at = bucket_start[b]
            bucket_start[b] = at + 1
            day_key[at], day_resident[at] = key[j], resident[j]
        # Insertion sort: no element passes its bucket's first place, as earlier buckets hold smaller keys.
        for i in range(1, m):
            k, r = day_key[i], day_resident[i]
            j = i
            while j > 0 and day_key[j - 1] >> low > k >> low:
                day_key[j], day_resident[j] = day_key[j - 1], day_resident[j - 1]
                j -= 1
            day_key[j], day_resident[j] = k, r
        for i in range(m):
            k, r = day_key[i], day_resident[i]
            ties += i > 0 and day_key[i - 1] >> low == k >> low
            key[lo + i], day[lo + i] = k, d
            if r >= 0:
                resident[lo + i], kind[lo + i], severity[lo + i] = r & ((1 << 56) - 1), ACUTE, r >> 56
                admission_draw[lo + i] = rng.unit_float(rng.hash_word(admission_word, k), 0.0)
            else:
                resident[lo + i], kind[lo + i], severity[lo + i], admission_draw[lo + i] = ~r, FOLLOW_UP, 0, 1.0
    return ties


def needs_admission(
    draw: np.ndarray, severity: np.ndarray, propensity: np.ndarray, admission_probability: np.ndarray
) -> np.ndarray:
    """Whether episodes need a bed, given the treating facilities' admission propensity (1 = baseline).

    The propensity (a provider response) moves only moderate cases: whether a severe or complex
    case needs a bed is not the provider's call.

    Args:
        draw: (n,) each episode's keyed admission draw.
        severity: (n,) its severity.
        propensity: (n,) the treating facility's admission propensity.
        admission_probability: Probability of admission by severity (`IllnessParams.admission_probability`).
    """
    discretion = np.where(severity == 1, propensity, 1.0)
    return draw < admission_probability[severity] * discretion


def length_of_stay(
    seed: int, key: np.ndarray, tier: np.ndarray, severity: np.ndarray, params: IllnessParams
) -> np.ndarray:
    """Whole days in bed (≥1): lognormal around the tier's mean, keyed by episode."""
    mean = params.length_of_stay.as_array()[tier] * params.severity_stay_factor.as_array()[severity]
    sigma = params.stay_dispersion
    z = rng.normal(seed, "illness.stay", key)
    days = np.exp(np.log(np.maximum(mean, 1e-9)) - sigma**2 / 2 + sigma * z)
    return np.maximum(1, np.rint(days)).astype(np.int32)
