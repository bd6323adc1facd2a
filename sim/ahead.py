"""A model's years of episodes, each drawn on a second thread while the year before it runs.

Drawing a year's episodes (`illness.draw_year`) is about a tenth of a full city's run, done at each
year start while the days run on one core. What the draw reads of the model is known a year early:
ages follow from year 0's, chronic conditions never change, and the thinning by disease management
follows next year's lever and who has signed up with a family doctor (which changes only at a year
start: this year's sign-ups are the guess). So a year start also starts next year's draw on a thread
— its kernels and numpy's loops release the GIL — into a second set of arrays, and next year's start
takes it if it was drawn from that year's inputs, or else draws anew. Either way a year's episodes
are `illness.draw_year`'s, bit for bit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from sim import illness
from sim.accel import numba_enabled
from sim.arrays import Buffers
from sim.illness import YearEpisodes
from sim.parameters.illness import IllnessParams


@dataclass(frozen=True)
class _Inputs:
    """What a year's draw reads (`illness.draw_year`'s arguments)."""

    seed: int
    year: int
    age: np.ndarray
    chronic: np.ndarray
    params: IllnessParams
    keep: np.ndarray | None
    first_day: int

    def same(self, other: _Inputs) -> bool:
        """Whether `other`'s draw gives these inputs' episodes: the same arguments."""
        return (
            (self.seed, self.year, self.first_day) == (other.seed, other.year, other.first_day)
            and self.params == other.params
            and np.array_equal(self.age, other.age)
            and np.array_equal(self.chronic, other.chronic)
            and (self.keep is None) == (other.keep is None)
            and (self.keep is None or np.array_equal(self.keep, other.keep))
        )


class _Ahead:
    """A draw running on its own thread; `episodes` is set when it succeeded."""

    def __init__(self, inputs: _Inputs, scratch: Buffers, out: Buffers) -> None:
        self.inputs = inputs
        self.episodes: YearEpisodes | None = None
        self._thread = threading.Thread(target=self._draw, args=(scratch, out), name="tiersim-draw-ahead")
        self._thread.start()

    def _draw(self, scratch: Buffers, out: Buffers) -> None:
        i = self.inputs
        try:
            self.episodes = illness.draw_year(
                i.seed, i.year, i.age, i.chronic, i.params, i.keep, first_day=i.first_day, buffers=scratch, out=out
            )
        except Exception:  # the year start draws again and raises it there, if its inputs are the same
            self.episodes = None

    def join(self) -> None:
        self._thread.join()


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
        self._ahead: _Ahead | None = None

    def __reduce__(self) -> tuple[type[YearDraws], tuple[()]]:
        return YearDraws, ()

    def draw(
        self,
        seed: int,
        year: int,
        age: np.ndarray,
        chronic: np.ndarray,
        params: IllnessParams,
        keep: np.ndarray | None,
        first_day: int,
    ) -> YearEpisodes:
        """This year's episodes (`illness.draw_year`'s arguments): drawn ahead from the same inputs, or drawn now.

        The episodes of the year before are overwritten.
        """
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.join()
            inputs = _Inputs(seed, year, age, chronic, params, keep, first_day)
            if ahead.episodes is not None and ahead.inputs.same(inputs):
                self._now = 1 - self._now
                return ahead.episodes
        return illness.draw_year(
            seed,
            year,
            age,
            chronic,
            params,
            keep,
            first_day=first_day,
            buffers=self._scratch,
            out=self._sets[self._now],
        )

    def draw_ahead(
        self,
        seed: int,
        year: int,
        age: np.ndarray,
        chronic: np.ndarray,
        params: IllnessParams,
        keep: np.ndarray | None,
        first_day: int,
    ) -> None:
        """Start drawing the episodes of `year` (the next to be drawn) on a thread, for its `draw`.

        The arrays given are the draw's: the caller must not change them. Without compiled kernels
        (`accel.numba_enabled`) nothing is drawn ahead: plain Python loops hold the GIL.
        """
        self.wait()
        if numba_enabled():
            inputs = _Inputs(seed, year, age, chronic, params, keep, first_day)
            self._ahead = _Ahead(inputs, self._scratch, self._sets[1 - self._now])

    def buffers(self) -> Buffers:
        """Where this year's episodes are written when the model makes them itself (by thinning shared draws).

        A draw ahead is dropped first: it writes into the draws' arrays.
        """
        self.wait()
        self._ahead = None
        return self._sets[self._now]

    def wait(self) -> None:
        """Wait for a draw ahead to end (its result is kept for `draw`)."""
        if self._ahead is not None:
            self._ahead.join()
