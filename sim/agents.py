"""The base of tiersim's Mesa agents: Mesa's agent, without its hold on every model ever built.

Mesa 3.3 numbers each model's agents from a counter kept in a class-level dictionary keyed by
the model (`mesa.Agent._ids`), which is never emptied: every model that ever made an agent stays
in memory with all its arrays, and a sweep worker, which runs hundreds of models (≈54 MB each at
100,000 residents), would run out of memory. `Agent` keeps the counters by weak reference instead;
agent numbering is Mesa's (from 1, per model). Upstream: https://github.com/projectmesa/mesa/issues/3179,
fixed by pull request #3180 in releases after 3.3, which need a newer Python than the 3.11 supported here.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from collections.abc import Iterator


class _IdCounters(weakref.WeakKeyDictionary):
    """Per-model agent id counters (from 1) that do not keep their models alive."""

    def __getitem__(self, model: mesa.Model) -> Iterator[int]:
        counter = self.get(model)
        if counter is None:
            counter = self[model] = itertools.count(1)
        return counter


class Agent(mesa.Agent):
    """A Mesa agent whose model can be freed once nothing else refers to it."""

    _ids = _IdCounters()
