"""Draws that runs of one seed make alike: a year's episodes before thinning and their taste shocks, kept.

With common random numbers every run of a seed draws the same candidate illnesses and the same taste
shocks for them, whatever its levers; a lever only thins the acute episodes (chronic-disease
management, `illness.draw_year`'s `keep`). Drawing them is a tenth of a lever run's time at 100,000
residents. `SharedDraws` keeps each year's unthinned episodes (`illness.draw_unthinned_year`) and
every one's shocks (`choice.taste_shocks`), drawn by the first run that needs the year; later runs
thin them (`illness.thin`) and take their shocks. Results are the same as drawing them anew
(tests/test_checkpoint.py).

A `sim.checkpoint.PrefixCache` gives one to the runs that share a beginning: the same seed, residents
and illness parameters (`CareModel.shared_draws`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import choice, illness
from sim.illness import UnthinnedYear
from sim.parameters.illness import IllnessParams

MAX_BYTES = 512 * 2**20
"""Memory a `SharedDraws` may hold (bytes): a 100,000-resident region's year is ≈45 MB; a year that would
go beyond (a full city's is ≈1 GB) is drawn by each run instead."""

_BYTES_PER_EPISODE = 4 + 1 + 1 + 8 + 8
"""An unthinned episode's bytes besides its shocks: resident, kind, severity, key and thinning draw."""


@dataclass(frozen=True)
class SharedYear:
    """A year's draws that runs of one seed share (no run changes them).

    Attributes:
        unthinned: The year's episodes before thinning, with their thinning draws.
        shocks: (n, K) taste shocks of every one of those episodes at each candidate slot.
    """

    unthinned: UnthinnedYear
    shocks: np.ndarray

    def __deepcopy__(self, memo: dict) -> SharedYear:
        return self  # unchanged by runs: copies of a model share it


class SharedDraws:
    """Years of draws shared by the runs of one seed, residents and illness parameters.

    Args:
        seed: The runs' seed.
        n_candidates: Candidate facilities per episode (the region's K).
        max_bytes: Memory the years may take together; default `MAX_BYTES`.
    """

    def __init__(self, seed: int, n_candidates: int, max_bytes: int | None = None) -> None:
        self.seed = seed
        self.n_candidates = n_candidates
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.bytes = 0
        self._years: dict[int, SharedYear | None] = {}

    def __deepcopy__(self, memo: dict) -> SharedDraws:
        return self  # copies of a model share the years drawn for any of them

    def year(
        self, year: int, age: np.ndarray, chronic: np.ndarray, params: IllnessParams, expected_episodes: int
    ) -> SharedYear | None:
        """The year's shared draws, drawn now if no run has drawn them yet.

        Args:
            year: Simulated year (its episodes from its first day).
            age: Every resident's age this year.
            chronic: Every resident's chronic status.
            params: Illness parameters.
            expected_episodes: About how many episodes the year has (last year's count will do), to
                tell before drawing whether the year fits in memory.

        Returns:
            The year's draws, or None when the run must draw its own: the year would take the memory
            beyond `max_bytes`, or its episodes cannot be thinned exactly (`illness.draw_unthinned_year`).
        """
        if year not in self._years:
            self._years[year] = self._draw(year, age, chronic, params, expected_episodes)
        return self._years[year]

    def _draw(
        self, year: int, age: np.ndarray, chronic: np.ndarray, params: IllnessParams, expected_episodes: int
    ) -> SharedYear | None:
        per_episode = _BYTES_PER_EPISODE + 8 * self.n_candidates
        if self.bytes + 1.1 * expected_episodes * per_episode > self.max_bytes:
            return None
        unthinned = illness.draw_unthinned_year(self.seed, year, age, chronic, params)
        if unthinned is None:
            return None
        shocks = choice.taste_shocks(self.seed, unthinned.episodes.key, self.n_candidates)
        # Left writeable: a kernel given a read-only array is compiled again for it (tests check that
        # no run changes them).
        self.bytes += len(unthinned.episodes) * per_episode
        return SharedYear(unthinned, shocks)
