"""Draws made on a second thread while the days before them run: a year's episodes, and blocks of taste shocks.

Drawing a year's episodes (`illness.draw_year`) is about a tenth of a full city's run, done at each
year start while the days run on one core. What the draw reads of the model is known a year early:
ages follow from year 0's, chronic conditions never change, and the thinning by disease management
follows next year's lever and who has signed up with a family doctor (which changes only at a year
start: this year's sign-ups are the guess). So a year start also starts next year's draw on a thread
— its kernels and numpy's loops release the GIL — into a second set of arrays, and next year's start
takes it if it was drawn from that year's inputs, or else draws anew. Either way a year's episodes
are `illness.draw_year`'s, bit for bit.

Taste shocks are keyed by episode (`choice.taste_shocks`), a block of days' episodes at a time
(`BlockShocks`): while one block's days run, the next block's are drawn on a thread, and taken when
the next block's keys are those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import choice, illness
from sim.accel import numba_enabled
from sim.arrays import Buffers
from sim.illness import YearEpisodes
from sim.parameters.illness import IllnessParams


@dataclass(frozen=True)
class YearInputs:
    """What a year's draw of episodes reads (`illness.draw_year`'s arguments)."""

    seed: int
    year: int
    age: np.ndarray
    chronic: np.ndarray
    params: IllnessParams
    keep: np.ndarray | None
    first_day: int

    def same(self, other: YearInputs) -> bool:
        """Whether `other`'s draw gives these inputs' episodes: the same arguments."""
        return (
            (self.seed, self.year, self.first_day) == (other.seed, other.year, other.first_day)
            and self.params == other.params
            and np.array_equal(self.age, other.age)
            and np.array_equal(self.chronic, other.chronic)
            and (self.keep is None) == (other.keep is None)
            and (self.keep is None or np.array_equal(self.keep, other.keep))
        )

    def draw(self, buffers: Buffers, out: Buffers) -> YearEpisodes:
        """`illness.draw_year` of these inputs, its working arrays in `buffers` and its episodes in `out`."""
        return illness.draw_year(
            self.seed,
            self.year,
            self.age,
            self.chronic,
            self.params,
            self.keep,
            first_day=self.first_day,
            buffers=buffers,
            out=out,
        )


class _Job:
    """A function called on its own thread; `result()` waits for its value."""

    def __init__(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._value: Any = None
        self._thread = threading.Thread(target=self._call, args=(function, args, kwargs), name=name)
        self._thread.start()

    def _call(self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self._value = function(*args, **kwargs)
        except Exception:  # the caller draws again and raises it there, if its inputs are the same
            self._value = None

    def result(self) -> Any:
        """The function's value once it has returned, or None if it raised."""
        self._thread.join()
        return self._value


class YearDraws:
    """Where a model draws its years of episodes: two sets of arrays, this year's and the next's.

    A year's episodes are drawn into the set last year's were not in (`draw_ahead`, on a thread) or,
    when no draw ahead fits, into this year's set after its last day (`draw`). The draws' working
    arrays (a city's are ≈150 MB) are one set, as one draw runs at a time. Fresh memory is slow (see
    `arrays.Buffers`): after the first two years, draws write into the memory of the year before last.

    A copy or a pickle starts with no arrays and no draw ahead (its first year draws anew).
    """

    def __init__(self) -> None:
        self._scratch = Buffers()
        self._sets = (Buffers(), Buffers())
        self._now = 0  # the set this year's episodes are in
        self._ahead: tuple[YearInputs, _Job] | None = None

    def __reduce__(self) -> tuple[type[YearDraws], tuple[()]]:
        return YearDraws, ()

    def draw(self, inputs: YearInputs) -> YearEpisodes:
        """This year's episodes: drawn ahead from the same inputs, or drawn now.

        The episodes of the year before are overwritten.
        """
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            drawn, episodes = ahead[0], ahead[1].result()
            if episodes is not None and drawn.same(inputs):
                self._now = 1 - self._now
                return episodes
        return inputs.draw(self._scratch, self._sets[self._now])

    def draw_ahead(self, inputs: YearInputs) -> None:
        """Start drawing the episodes of `inputs.year` (the next to be drawn) on a thread, for its `draw`.

        The arrays given are the draw's: the caller must not change them. Without compiled kernels
        (`accel.numba_enabled`) nothing is drawn ahead: plain Python loops hold the GIL.
        """
        self.drop()
        if numba_enabled():
            job = _Job("tiersim-draw-ahead", inputs.draw, self._scratch, self._sets[1 - self._now])
            self._ahead = (inputs, job)

    def buffers(self) -> Buffers:
        """Where this year's episodes are written when the model makes them itself (by thinning shared draws).

        A draw ahead is dropped first: it writes into the draws' arrays.
        """
        self.drop()
        return self._sets[self._now]

    def drop(self) -> None:
        """Forget the draw ahead, once it has ended."""
        if self._ahead is not None:
            self._ahead[1].result()
            self._ahead = None


class BlockShocks:
    """Taste shocks of a block of episodes (`choice.taste_shocks`), each next block drawn ahead on a thread.

    A copy or a pickle starts with no block drawn ahead.
    """

    def __init__(self) -> None:
        self._ahead: tuple[np.ndarray, int, int, _Job] | None = None

    def __reduce__(self) -> tuple[type[BlockShocks], tuple[()]]:
        return BlockShocks, ()

    def draw(self, seed: int, key: np.ndarray, n_candidates: int) -> np.ndarray:
        """`choice.taste_shocks(seed, key, n_candidates)`: drawn ahead if drawn for these keys, or drawn now."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            drawn_key, drawn_seed, drawn_candidates, job = ahead
            shocks = job.result()
            same = (drawn_seed, drawn_candidates) == (seed, n_candidates) and np.array_equal(drawn_key, key)
            if shocks is not None and same:
                return shocks
        return choice.taste_shocks(seed, key, n_candidates)

    def draw_ahead(self, seed: int, key: np.ndarray, n_candidates: int) -> None:
        """Start drawing the shocks of the next block's episodes `key` on a thread (the caller must not change `key`).

        Without compiled kernels (`accel.numba_enabled`) nothing is drawn ahead.
        """
        self.drop()
        if numba_enabled():
            job = _Job("tiersim-shocks-ahead", choice.taste_shocks, seed, key, n_candidates)
            self._ahead = (key, seed, n_candidates, job)

    def drop(self) -> None:
        """Forget the block drawn ahead, once its thread has ended (before its keys' memory is written)."""
        if self._ahead is not None:
            self._ahead[3].result()
            self._ahead = None
