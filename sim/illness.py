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

from dataclasses import dataclass, fields

import numpy as np

from sim import rng, rules
from sim.accel import kernel
from sim.arrays import Buffers
from sim.parameters.illness import (
    ACUTE,
    DAYS_PER_YEAR,
    FOLLOW_UP,
    IllnessParams,
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

    def take(self, index: np.ndarray) -> Episodes:
        """The episodes at `index`, in its order."""
        return Episodes(*(getattr(self, f.name)[index] for f in fields(self)))


RESIDENT_BITS = 28
"""Resident ids are below 2**RESIDENT_BITS: a year's episodes pack kind and severity above them while sorted."""


@dataclass
class YearEpisodes:
    """A year's episodes by day, stored compactly: 14 bytes an episode; a day's `Episodes` are made when asked for.

    A city's year is about 15 million episodes. Their days are where each day begins (`start`), and
    their admission draws are hashed from their keys on the day they are needed; ids fit 32 bits.
    Fresh memory is slow (a page fault per page; see `arrays.Buffers`), so the half of the bytes
    that are not stored is about a tenth of a city's run time saved.

    Attributes:
        resident: (n,) int32: who is ill.
        kind: (n,) ACUTE or FOLLOW_UP.
        severity: (n,) 0 minor … 3 complex.
        key: (n,) 64-bit key of each episode.
        start: (DAYS_PER_YEAR + 1,) where each day's episodes begin, then where they end.
        admission_word: Key of the admission draws' stream (`Episodes.admission_draw`).
    """

    resident: np.ndarray
    kind: np.ndarray
    severity: np.ndarray
    key: np.ndarray
    start: np.ndarray
    admission_word: np.uint64

    def __len__(self) -> int:
        return int(self.resident.size)

    def days(self, first: int, end: int) -> Episodes:
        """The episodes of days `first` to `end` − 1, every field."""
        lo, hi = self.start[first], self.start[end]
        day = np.repeat(np.arange(first, end, dtype=np.int16), self.start[first + 1 : end + 1] - self.start[first:end])
        kind, key = self.kind[lo:hi], self.key[lo:hi]
        return Episodes(
            self.resident[lo:hi].astype(np.int64),
            day,
            kind,
            self.severity[lo:hi],
            _admission_draws(self.admission_word, key, kind),
            key,
        )


def acute_rate(
    age: np.ndarray, chronic: np.ndarray, params: IllnessParams, out: np.ndarray | None = None
) -> np.ndarray:
    """Acute episodes per resident-year before growth (written in `out` if given)."""
    # By age (far fewer ages than residents), then times the chronic factor where it applies.
    ages = np.arange(age.max(initial=0) + 1)
    factor = np.where(ages < 15, params.child_rate_factor, np.where(ages >= 60, params.elderly_rate_factor, 1.0))
    rate = np.take(params.acute_rate_adult * factor, age, out=out, mode="clip")  # "clip": not buffered
    return np.multiply(rate, params.chronic_rate_factor, out=rate, where=chronic)


def severity_shares(age: np.ndarray, params: IllnessParams) -> np.ndarray:
    """(n, 4) probabilities of each severity for an acute episode."""
    upper = np.array([params.severity_moderate, params.severity_severe, params.severity_complex])
    by_group = np.minimum(np.stack([upper, upper * params.elderly_severity_factor]), 1.0 / 3.0)
    by_group = np.concatenate([1.0 - by_group.sum(axis=1, keepdims=True), by_group], axis=1)
    return by_group[(age >= 60).astype(np.int64)]


POISSON_BLOCK = 1 << 18
"""Residents whose Poisson processes are drawn together (`poisson_events`): their state is a few megabytes."""


def poisson_events(
    seed: int,
    stream: str,
    year: int,
    residents: np.ndarray,
    rate: np.ndarray,
    buffers: Buffers | None = None,
    *,
    block: int = POISSON_BLOCK,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event days of a yearly Poisson process per resident, from keyed exponential gaps.

    Args:
        seed: Run seed.
        stream: Stream name.
        year: Simulated year (0-based); a key of every draw.
        residents: Resident ids.
        rate: Events per year of each resident.
        buffers: Where to write the events and the state of the process on the way (in arrays named after
            the stream); default new arrays.
        block: Residents drawn together; the events are the same whatever it is, in another order.

    Returns:
        (resident, day, event number) of every event, unsorted: by block of `block` residents, then
        by event number, then as `residents` (a stable sort by event number gives the same order
        whatever the block).
    """
    buffers = Buffers() if buffers is None else buffers
    word = rng.bits(seed, stream, year)[()]
    # A block's active residents' id, clock (days), rate and hashed keys, which the kernel keeps in
    # front, and the uniform draws of their next events; in last year's memory (fresh memory costs
    # page faults), and a block's, not the city's (a city's would be about 100 MB).
    block = max(1, min(block, rate.size))
    fields = (("who", residents.dtype), ("clock", np.float64), ("rate", np.float64), ("hashed", np.uint64))
    state = [buffers.get(f"{stream}.{name}", block, dtype) for name, dtype in fields]
    units = buffers.get(f"{stream}.units", block, np.float64)
    # A round adds at most as many events as the block has active residents: room for the expected
    # number and a block more is almost always enough.
    capacity = int(rate.sum()) + block
    events = [
        buffers.get(f"{stream}.{field}", capacity, dtype)
        for field, dtype in (("resident", residents.dtype), ("day", np.int16), ("event", np.int16))
    ]
    n = 0
    for first in range(0, rate.size, block):
        part = slice(first, first + block)
        size, k = _start(word, residents[part], rate[part], *state, units), 0
        while size:
            if n + size > capacity:
                capacity = n + size
                events = [np.concatenate([e[:n], np.empty(size, e.dtype)]) for e in events]
            # Gaps are −ln u: numpy takes the logarithm (see `accel`), a kernel the rest.
            np.log(units[:size], out=units[:size])
            size, n = _advance(*state, units, size, k, *events, n)
            k += 1
    return events[0][:n], events[1][:n], events[2][:n]


@kernel
def _start(
    word: np.uint64,
    residents: np.ndarray,
    rate: np.ndarray,
    who: np.ndarray,
    t: np.ndarray,
    active_rate: np.ndarray,
    hashed: np.ndarray,
    units: np.ndarray,
) -> int:
    """The state of the residents with a positive rate before their first event, in front of `_advance`'s arrays.

    That is their id `who`, clock `t` (0), `active_rate`, hashed keys `rng.bits_after(word, who)`
    (`word` hashes the stream and year) and draws of event 0, `rng.uniform_open_after(hashed, 0)`:
    each event number continues from the hashed keys.

    Returns:
        The number of residents with a positive rate.
    """
    m = 0
    for i in range(rate.size):
        if rate[i] > 0:
            who[m], t[m], active_rate[m], hashed[m] = residents[i], 0.0, rate[i], rng.hash_word(word, residents[i])
            units[m] = rng.keyed_unit_float(hashed[m], 0, 0.5)
            m += 1
    return m


@kernel
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
    The `out_` arrays need room for `size` events from `n` (what lies beyond the events written is
    scratch).

    Returns:
        The number of residents still active and the number of events written in all.
    """
    m = 0
    # Without a branch (whether a clock passes the year's end is a coin flip the processor cannot
    # predict): every resident is written at m, which moves on only for those who stay active.
    for j in range(size):
        tj = t[j] + -units[j] / rate[j] * DAYS_PER_YEAR
        h = hashed[j]
        out_r[n + m], out_d[n + m], out_k[n + m] = who[j], np.int16(min(tj, DAYS_PER_YEAR)), k
        who[m], t[m], rate[m], hashed[m] = who[j], tj, rate[j], h
        units[m] = rng.keyed_unit_float(h, k + 1, 0.5)
        m += tj < DAYS_PER_YEAR
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
    out: Buffers | None = None,
) -> YearEpisodes:
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
        out: Where to write the episodes, if not in `buffers` (`sim.ahead` draws next year's episodes
            in other arrays than this year's).

    Returns:
        The year's episodes.

    Raises:
        ValueError: More residents than `RESIDENT_BITS` allow.
    """
    buffers = Buffers() if buffers is None else buffers
    acute, follow_up = _candidates(seed, year, age, chronic, params, buffers)
    draws = _draws(seed, year, age, params, keep, buffers)
    return _by_arrival(acute, follow_up, draws, first_day, seed, buffers if out is None else out)


def _candidates(
    seed: int, year: int, age: np.ndarray, chronic: np.ndarray, params: IllnessParams, buffers: Buffers
) -> tuple[_Events, _Events]:
    """The year's candidate events: acute ones of every resident, follow-up visits of chronic patients."""
    if age.size >= 1 << RESIDENT_BITS:
        raise ValueError(f"{age.size} residents is invalid: allowed at most {(1 << RESIDENT_BITS) - 1}")
    growth = (1.0 + params.utilisation_growth) ** max(year, 0)
    rate = acute_rate(age, chronic, params, buffers.get("illness.rate", age.size, np.float64))
    rate *= growth
    acute = poisson_events(seed, "illness.acute", year, np.arange(age.size, dtype=np.int32), rate, buffers)
    chronic_ids = np.flatnonzero(chronic).astype(np.int32)
    follow_up_rate = np.full(chronic_ids.size, params.follow_up_rate * growth)
    follow_up = poisson_events(seed, "illness.follow_up", year, chronic_ids, follow_up_rate, buffers)
    return acute, follow_up


@dataclass(frozen=True)
class UnthinnedYear:
    """A year's episodes before any thinning (`draw_year` without `keep`), with each one's thinning draw.

    Runs of one seed that differ only in `keep` (a policy's chronic-disease management) draw the
    same candidate events; `thin` gives each run's episodes from this, exactly as `draw_year` with
    its `keep` would draw them.

    Attributes:
        episodes: Every episode of the year (from its first day).
        keep_draw: (n,) each acute episode's keyed acceptance draw (−inf for follow-up visits, never thinned).
    """

    episodes: YearEpisodes
    keep_draw: np.ndarray


def draw_unthinned_year(
    seed: int, year: int, age: np.ndarray, chronic: np.ndarray, params: IllnessParams
) -> UnthinnedYear | None:
    """A whole year's episodes before thinning, for `thin` (arguments as `draw_year`'s).

    Returns:
        The year, or None when `thin` could not reproduce `draw_year` from it: two episodes of a day
        tie on their arrival word (`draw_year` then orders them by another sort) or two acute
        episodes share a key (each about once in 10**5 city-years).
    """
    buffers = Buffers()
    acute, follow_up = _candidates(seed, year, age, chronic, params, buffers)
    draws = _draws(seed, year, age, params, None, buffers)
    episodes = _by_arrival(acute, follow_up, draws, 0, seed, buffers)
    day = np.repeat(np.arange(DAYS_PER_YEAR, dtype=np.int16), np.diff(episodes.start))
    arrival = _arrival(day, episodes.key)  # non-decreasing: equal words are neighbours
    resident, _, event = acute
    key = rng.bits_after(draws[2][resident], event)  # the acute episodes' keys, as `_batch` makes them
    order = np.argsort(key)
    key = key.take(order)
    if np.any(arrival[1:] == arrival[:-1]) or np.any(key[1:] == key[:-1]):
        return None
    draw = rng.uniform_after(_resident_words_of(seed, "illness.keep", year, age.size)[resident], event).take(order)
    keep_draw = np.full(len(episodes), -np.inf)
    is_acute = np.flatnonzero(episodes.kind == ACUTE)
    keep_draw[is_acute] = draw.take(np.searchsorted(key, episodes.key[is_acute]))
    return UnthinnedYear(episodes, keep_draw)


def thin(year: UnthinnedYear, keep: np.ndarray | None, buffers: Buffers) -> tuple[YearEpisodes, np.ndarray | None]:
    """The year's episodes that `draw_year` with `keep` draws, and which rows of `year` they are.

    Args:
        year: The unthinned year (`draw_unthinned_year`).
        keep: Per-resident acceptance probability of acute episodes, as `draw_year` takes it; None keeps all.
        buffers: Where the kept episodes are written (as `draw_year`'s).

    Returns:
        (episodes, kept rows of `year.episodes`); with `keep` None, the year's own episodes and None.
    """
    if keep is None:
        return year.episodes, None
    every, n = year.episodes, len(year.episodes)
    out = [buffers.get(f"illness.episodes.{name}", n, dtype) for name, dtype in (*_EPISODE_FIELDS, ("kept", np.int64))]
    m, start = _thin(year.keep_draw, keep, every.resident, every.kind, every.severity, every.key, every.start, *out)
    *fields, kept = (field[:m] for field in out)
    return YearEpisodes(*fields, start, every.admission_word), kept


@kernel
def _thin(
    keep_draw: np.ndarray,
    keep: np.ndarray,
    resident: np.ndarray,
    kind: np.ndarray,
    severity: np.ndarray,
    key: np.ndarray,
    start: np.ndarray,
    out_resident: np.ndarray,
    out_kind: np.ndarray,
    out_severity: np.ndarray,
    out_key: np.ndarray,
    out_kept: np.ndarray,
) -> tuple[int, np.ndarray]:
    """`thin`'s kept episodes written into `out_*` in one pass: (how many, where each day's begin, then the end)."""
    new_start = np.empty(start.size, np.int64)
    m, d = 0, 0
    for i in range(resident.size):
        while start[d] == i:  # days (empty ones too) begin at the kept episodes so far
            new_start[d] = m
            d += 1
        if keep_draw[i] < keep[resident[i]]:
            out_resident[m], out_kind[m], out_severity[m], out_key[m], out_kept[m] = (
                resident[i], kind[i], severity[i], key[i], i
            )  # fmt: skip
            m += 1
    new_start[d:] = m
    return m, new_start


_Events = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Candidate events as (resident, day, event number), as `poisson_events` gives them."""
_Draws = tuple[np.ndarray, np.ndarray, np.ndarray, np.uint64, np.ndarray, np.ndarray, np.uint64]
"""What the keyed draws of a year's episodes start from: (keep words, keep, acute key words, severity word,
age, severity thresholds, follow-up key word); see `_batch`."""
_Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Episodes as (resident, day, kind, severity, key)."""


def _draws(
    seed: int, year: int, age: np.ndarray, params: IllnessParams, keep: np.ndarray | None, buffers: Buffers
) -> _Draws:
    """The words and tables the draws of the year's episodes are made from (see `_batch`); words in `buffers`."""
    # Each draw hashes (year, resident) once per resident, then an episode's event number.
    key_words = _resident_words_of(seed, "illness.key.acute", year, age.size, buffers)
    if keep is None:
        keep_words, keep = np.zeros(0, np.uint64), np.zeros(0)
    else:
        keep_words = _resident_words_of(seed, "illness.keep", year, age.size, buffers)
    # Severity: how many cumulative shares (by age, far fewer ages than episodes) the draw reaches.
    thresholds = np.cumsum(severity_shares(np.arange(age.max() + 1), params), axis=1)
    severity_word = rng.stream_key(seed, "illness.severity")
    follow_up_word = rng.bits(seed, "illness.key.follow_up", year)[()]
    return keep_words, keep, key_words, severity_word, age, thresholds, follow_up_word


def _resident_words_of(seed: int, stream: str, year: int, n: int, buffers: Buffers | None = None) -> np.ndarray:
    """The year's words of a stream for residents 0 … n − 1 (`rng.bits(seed, stream, year, resident)`)."""
    out = np.empty(n, np.uint64) if buffers is None else buffers.get(f"{stream}_words", n, np.uint64)
    _resident_words(rng.bits(seed, stream, year)[()], out)
    return out


@kernel
def _resident_words(word: np.uint64, out: np.ndarray) -> None:
    """`out = rng.bits_after(word, residents)` of every resident (0, 1, …), without an array of their ids."""
    for r in range(out.size):
        out[r] = rng.hash_word(word, r)


def _batch(acute: _Events, follow_up: _Events, draws: _Draws, first_day: int) -> _Batch:
    """The episodes of candidate events on or after `first_day`: acute ones kept, then follow-up visits, in their order.

    An acute candidate of resident r and event number e is kept when `keep` is empty or
    `rng.uniform_after(keep_words[r], e) < keep[r]`; its key is `rng.bits_after(key_words[r], e)`,
    its severity the number of the cumulative shares of r's age (`thresholds`) that
    `rng.uniform_after(severity_word, key)` reaches (at most 3). A follow-up visit's key is
    `rng.bits(seed, "illness.key.follow_up", year, r, e)`, hashed on from `follow_up_word`.
    """
    keep_words, keep, key_words, severity_word, age, thresholds, follow_up_word = draws
    r_a, d_a, e_a = (a[acute[1] >= first_day] for a in acute)
    if keep.size:
        accepted = rng.uniform_after(keep_words[r_a], e_a) < keep[r_a]
        r_a, d_a, e_a = r_a[accepted], d_a[accepted], e_a[accepted]
    key_a = rng.bits_after(key_words[r_a], e_a)
    u = rng.uniform_after(severity_word, key_a)
    reached = np.zeros(r_a.size, dtype=np.int8)
    for column in thresholds.T:
        reached += u >= column[age[r_a]]
    r_f, d_f, e_f = (a[follow_up[1] >= first_day] for a in follow_up)
    key_f = rng.bits_after(rng.bits_after(follow_up_word, r_f), e_f)
    return (
        np.concatenate([r_a, r_f]),
        np.concatenate([d_a, d_f]),
        np.concatenate([np.full(r_a.size, ACUTE, np.int8), np.full(r_f.size, FOLLOW_UP, np.int8)]),
        np.concatenate([np.minimum(reached, 3), np.zeros(r_f.size, np.int8)]),
        np.concatenate([key_a, key_f]),
    )


def _arrival(day: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Sort words: by day, then in the random order of the episode keys (the order patients arrive in a day)."""
    return (day.astype(np.uint64) << np.uint64(55)) | (key >> np.uint64(9))


_EPISODE_FIELDS = (("resident", np.int32), ("kind", np.int8), ("severity", np.int8), ("key", np.uint64))
"""The stored fields of `YearEpisodes`, in its order."""


def _by_arrival(
    acute: _Events, follow_up: _Events, draws: _Draws, first_day: int, seed: int, buffers: Buffers
) -> YearEpisodes:
    """The episodes of candidate events (`_batch`) sorted by `_arrival` word.

    The episodes are written in `buffers`, made with room for all candidates (a whole year's: the
    next year needs them, however many this one keeps).

    The order has always been numpy's quicksort of the words (`np.argsort`) of `_batch` of the
    events by event number, which is not stable: episodes that tie on their word are in whatever
    order it left them. A stable sort gives the same permutation when the words are distinct; when
    two are not (two keys of a day equal in their leading 55 bits: about once in 10**5 years of 2.5
    million residents), the quicksort is redone.
    """
    room = acute[0].size + follow_up[0].size
    out = [buffers.get(f"illness.episodes.{name}", room, dtype) for name, dtype in _EPISODE_FIELDS]
    start = _by_day(acute, follow_up, draws, first_day, out[0], out[-1])
    out = [field[: start[-1]] for field in out]
    if _sort_days(start, *out):
        out = _quicksorted(_batch(_by_event_number(acute), _by_event_number(follow_up), draws, first_day))
    return YearEpisodes(*out, start, rng.stream_key(seed, "illness.admission"))


def _quicksorted(batch: _Batch) -> list[np.ndarray]:
    """The stored `YearEpisodes` fields of a batch in the order of numpy's quicksort of their `_arrival` words."""
    order = np.argsort(_arrival(batch[1], batch[4]))
    resident, _, kind, severity, key = (field.take(order) for field in batch)
    return [resident.astype(np.int32), kind, severity, key]


def _by_event_number(events: _Events) -> _Events:
    """Events in the order `poisson_events` gives for a single block: by event number, then as its residents."""
    order = np.argsort(events[2], kind="stable")
    return events[0].take(order), events[1].take(order), events[2].take(order)


@kernel
def _admission_draws(word: np.uint64, key: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Keyed uniform draws of episodes (`word` is the stream's); follow-up visits never need a bed."""
    draw = np.empty(key.size)
    for i in range(key.size):
        draw[i] = 1.0 if kind[i] == FOLLOW_UP else rng.keyed_unit_float(word, key[i], 0.0)
    return draw


@kernel
def _by_day(
    acute: _Events, follow_up: _Events, draws: _Draws, first_day: int, resident: np.ndarray, key: np.ndarray
) -> np.ndarray:
    """The episodes of candidate events (`_batch`, same order) by day, in a stable counting sort.

    The draws are made on the way, so no array of the episodes in their first order is written.
    `resident` (int32) gets the resident with the severity in the bits from `RESIDENT_BITS` on, or
    ~resident for a follow-up visit; `key` the episode key. Days must be in [0, DAYS_PER_YEAR) and
    resident ids below 2**RESIDENT_BITS.

    Returns:
        Where each day starts in `resident` and `key`, and where the episodes end.
    """
    r_a, d_a, e_a = acute
    r_f, d_f, e_f = follow_up
    keep_words, keep, key_words, severity_word, age, thresholds, follow_up_word = draws
    start = np.zeros(DAYS_PER_YEAR + 1, dtype=np.int64)
    for i in range(r_a.size):
        if d_a[i] >= first_day and (
            keep.size == 0 or rng.keyed_unit_float(keep_words[r_a[i]], e_a[i], 0.0) < keep[r_a[i]]
        ):
            start[d_a[i] + 1] += 1
    for d in d_f:
        if d >= first_day:
            start[d + 1] += 1
    for d in range(DAYS_PER_YEAR):
        start[d + 1] += start[d]
    fill = start[:-1].copy()
    for i in range(r_a.size):
        d, r = d_a[i], r_a[i]
        if d < first_day or (keep.size and not rng.keyed_unit_float(keep_words[r], e_a[i], 0.0) < keep[r]):
            continue
        at = fill[d]
        fill[d] = at + 1
        key[at] = rng.hash_word(key_words[r], e_a[i])
        u = rng.keyed_unit_float(severity_word, key[at], 0.0)
        reached = 0
        for column in range(thresholds.shape[1]):
            reached += u >= thresholds[age[r], column]
        resident[at] = np.int32(r | np.int32(min(reached, 3)) << RESIDENT_BITS)
    for i in range(r_f.size):
        d = d_f[i]
        if d < first_day:
            continue
        at = fill[d]
        fill[d] = at + 1
        resident[at], key[at] = np.int32(~r_f[i]), rng.hash_pair(follow_up_word, r_f[i], e_f[i])
    return start


@kernel
def _sort_days(start: np.ndarray, resident: np.ndarray, kind: np.ndarray, severity: np.ndarray, key: np.ndarray) -> int:
    """Stable sort of `_by_day`'s episodes within each day by `_arrival` word, into the `YearEpisodes` fields.

    Each day is sorted in cache: two least-significant-digit radix passes over the leading 2b bits
    of the keys, then an insertion sort by the rest of the arrival word. Keys are uniform, so with
    2**2b ≥ 16 × the day's episodes few share their leading bits and the insertion sort moves few;
    digits of b ≤ 10 bits keep the counts in the first-level cache.

    Returns:
        The number of neighbours with equal arrival words.
    """
    most = np.max(start[1:] - start[:-1])
    # A day's episodes as (key, packed resident) pairs: the two words of an episode share a cache line.
    pairs = np.empty(2 * most, dtype=np.uint64)
    spare = np.empty(2 * most, dtype=np.uint64)
    low_count = np.empty(1 << 10, dtype=np.int64)
    high_count = np.empty(1 << 10, dtype=np.int64)
    low = np.uint64(9)
    ties = 0
    for d in range(DAYS_PER_YEAR):
        lo, hi = start[d], start[d + 1]
        m = hi - lo
        b = 1
        while b < 10 and 1 << 2 * b < 16 * m:
            b += 1
        digits = 1 << b
        mask, high_shift, low_shift = np.uint64(digits - 1), np.uint64(64 - b), np.uint64(64 - 2 * b)
        low_count[:digits] = 0
        high_count[:digits] = 0
        for k in key[lo:hi]:
            low_count[(k >> low_shift) & mask] += 1
            high_count[k >> high_shift] += 1
        low_at, high_at = 0, 0
        for digit in range(digits):
            low_at, low_count[digit] = low_at + low_count[digit], low_at
            high_at, high_count[digit] = high_at + high_count[digit], high_at
        for j in range(lo, hi):
            k = key[j]
            at = low_count[(k >> low_shift) & mask]
            low_count[(k >> low_shift) & mask] = at + 1
            spare[2 * at], spare[2 * at + 1] = k, np.int64(resident[j])
        for j in range(m):
            k = spare[2 * j]
            at = high_count[k >> high_shift]
            high_count[k >> high_shift] = at + 1
            pairs[2 * at], pairs[2 * at + 1] = k, spare[2 * j + 1]
        for i in range(1, m):
            k, r = pairs[2 * i], pairs[2 * i + 1]
            j = i
            while j > 0 and pairs[2 * j - 2] >> low > k >> low:
                pairs[2 * j], pairs[2 * j + 1] = pairs[2 * j - 2], pairs[2 * j - 1]
                j -= 1
            pairs[2 * j], pairs[2 * j + 1] = k, r
        for i in range(m):
            k, r = pairs[2 * i], np.int64(pairs[2 * i + 1])
            ties += i > 0 and pairs[2 * i - 2] >> low == k >> low
            # Selects, not a branch: acute episodes and follow-up visits come in unpredictable order.
            follow_up = r < 0
            key[lo + i], kind[lo + i] = k, FOLLOW_UP if follow_up else ACUTE
            resident[lo + i] = ~r if follow_up else r & ((1 << RESIDENT_BITS) - 1)
            severity[lo + i] = 0 if follow_up else r >> RESIDENT_BITS
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


PRESCRIPTION_STREAM = "illness.long_prescription"
"""Stream of the keyed draw that decides whether a long prescription (长处方) makes a follow-up visit unnecessary."""


def long_prescription_kept(
    seed: int, key: np.ndarray, kind: np.ndarray, eligible: np.ndarray | None, visits_avoided: float
) -> np.ndarray:
    """Indices of the episodes still needing a visit under long prescriptions (长处方), in their order.

    An eligible patient's follow-up visit is avoided when its keyed draw (`PRESCRIPTION_STREAM`, by
    the episode's key) is below `visits_avoided`: a larger share avoids a superset, and the visits
    kept are the baseline's. Acute episodes are all kept.

    Args:
        seed: Run seed.
        key: (n,) the episodes' keys.
        kind: (n,) ACUTE or FOLLOW_UP.
        eligible: (n,) the patient may get long prescriptions (None: every patient).
        visits_avoided: Share of eligible follow-up visits avoided.
    """
    avoided = (kind == FOLLOW_UP) & (rng.uniform(seed, PRESCRIPTION_STREAM, key) < visits_avoided)
    if eligible is not None:
        avoided &= eligible
    return np.flatnonzero(~avoided)


STAY_STREAM = "illness.stay"
"""Stream of the keyed normal draws of lengths of stay."""


def mean_stay(tier: np.ndarray, severity: np.ndarray, stay_length: np.ndarray, params: IllnessParams) -> np.ndarray:
    """Mean days in bed at facilities of `tier` with their `stay_length` (`rules.mean_stay`)."""
    return rules.mean_stay(
        params.length_of_stay.as_array()[tier], params.severity_stay_factor.as_array()[severity], stay_length
    )


def length_of_stay(
    seed: int,
    key: np.ndarray,
    tier: np.ndarray,
    severity: np.ndarray,
    stay_length: np.ndarray,
    params: IllnessParams,
) -> np.ndarray:
    """Whole days in bed (≥1): lognormal around the facility's mean (`mean_stay`), keyed by episode."""
    mean = mean_stay(tier, severity, stay_length, params)
    days = lognormal_days(mean, rng.normal(seed, STAY_STREAM, key), params.stay_dispersion)
    return np.maximum(1, np.rint(days)).astype(np.int32)


def lognormal_days(mean: np.ndarray, z: np.ndarray, dispersion: float) -> np.ndarray:
    """Days in bed before rounding: lognormal with mean `mean` and log-sd `dispersion`, at standard normal draws `z`."""
    return np.exp(np.log(np.maximum(mean, 1e-9)) - dispersion**2 / 2 + dispersion * z)
