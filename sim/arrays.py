"""Array helpers: exact, faster equivalents of a few numpy idioms, and reusable buffers."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

from sim.accel import helper

_DIGIT = 1 << 16
_RADIX_FROM = 512
"""Below this many keys numpy's own stable sort is as fast as the checks radix passes need."""


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")`, faster for integer keys in [0, 2**32).

    numpy sorts 16-bit integers by radix sort, in linear time; larger keys are sorted by their low
    16 bits, then stably by their high 16 bits (least significant digit first), which gives the one
    stable order. Other keys fall back to numpy's stable sort.
    """
    if keys.size < _RADIX_FROM or keys.dtype.kind not in "iu":
        return np.argsort(keys, kind="stable")
    low, high = keys.min(), keys.max()
    if low < 0 or high >= _DIGIT * _DIGIT:
        return np.argsort(keys, kind="stable")
    if high < _DIGIT:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & (_DIGIT - 1)).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def rank_within(group: np.ndarray) -> np.ndarray:
    """Position of each element among earlier elements of the same group (0, 1, 2, … in array order)."""
    order = stable_argsort(group)
    sorted_group = group[order]
    first = np.empty(group.size, dtype=bool)
    first[:1] = True
    np.not_equal(sorted_group[1:], sorted_group[:-1], out=first[1:])
    position = np.arange(group.size)
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = position - np.maximum.accumulate(np.where(first, position, 0))
    return rank


class Buffers:
    """Named arrays kept from one call to the next, so a yearly draw writes into last year's memory.

    A city's year of episodes is hundreds of megabytes of arrays. Fresh memory costs a page fault
    per page: on the benchmark machine, a virtual machine that hands freed memory back to its host,
    ≈10 ms per MiB (docs/performance.md), more than drawing into it. Arrays handed out are views:
    the next `get` of a name overwrites what the last one returned.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, size: int, dtype: DTypeLike) -> np.ndarray:
        """An uninitialised array of `size` elements in the memory of the last `name` when that was large enough.

        A new array has room for a quarter more elements: years of growth in use (2.5% a year),
        so a run's later years need no new memory. Room never touched costs nothing.
        """
        have = self._arrays.get(name)
        if have is None or have.size < size or have.dtype != np.dtype(dtype):
            have = np.empty(size + size // 4, dtype)
            self._arrays[name] = have
        return have[:size]


def row_sums(matrix: np.ndarray) -> np.ndarray:
    """`matrix.sum(axis=1)` of a matrix with fewer than 8 columns, added left to right as numpy does.

    (numpy adds fewer than 8 values in order; from 8 on it sums pairwise, which this does not.)
    """
    if matrix.shape[1] >= 8:
        return matrix.sum(axis=1)
    total = matrix[:, 0].copy()
    for column in range(1, matrix.shape[1]):
        total += matrix[:, column]
    return total


_RADIX_ORDER_FROM = 1024
"""From this many keys `stable_order` sorts by radix passes."""


@helper
def stable_order(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")` of non-negative integer keys, for kernels: radix passes of 11 bits.

    Small digit counts fit in the first-level cache, so a pass costs about as much as a copy. A few
    keys are merge sorted instead: a radix pass costs its 2,048 digit counts however few keys there
    are. (A stable order is unique, so both give the same.)
    """
    n = keys.size
    if n < _RADIX_ORDER_FROM:
        return np.argsort(keys, kind="mergesort")
    order = np.arange(n)
    top = keys.max()
    spare = np.empty(n, np.int64)
    count = np.empty(2049, np.int64)
    shift = 0
    while (top >> shift) > 0:
        count[:] = 0
        for i in range(n):
            count[((keys[order[i]] >> shift) & 2047) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for i in range(n):
            d = (keys[order[i]] >> shift) & 2047
            spare[count[d]] = order[i]
            count[d] += 1
        order, spare = spare, order
        shift += 11
    return order


_PAIRWISE_BLOCK = 128
"""numpy's `PW_BLOCKSIZE`: slices up to this long are added with eight running sums."""


@helper
def _pairwise_block(values: np.ndarray, begin: int, end: int) -> float:
    """The sum of at most `_PAIRWISE_BLOCK` values as numpy makes it: in order below 8, else eight running sums."""
    n = end - begin
    if n < 8:
        total = 0.0
        for i in range(begin, end):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[begin], values[begin + 1], values[begin + 2], values[begin + 3]
    r4, r5, r6, r7 = values[begin + 4], values[begin + 5], values[begin + 6], values[begin + 7]
    i = begin + 8
    while i < end - n % 8:
        r0, r1, r2, r3 = r0 + values[i], r1 + values[i + 1], r2 + values[i + 2], r3 + values[i + 3]
        r4, r5, r6, r7 = r4 + values[i + 4], r5 + values[i + 5], r6 + values[i + 6], r7 + values[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for k in range(i, end):
        total += values[k]
    return total


@helper
def pairwise_sum(values: np.ndarray, begin: int, end: int) -> float:
    """`values[begin:end].sum()` of a 1-D float64 array, for kernels: numpy's pairwise summation step by step.

    numpy adds fewer than 8 values in order; up to 128 values in eight interleaved running sums,
    combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the rest in order; longer
    slices as the sum of their two halves, the first a multiple of 8 long (numpy's `loops_utils.h`,
    `pairwise_sum`; the tests check it against `ndarray.sum` bit for bit). A C-ordered block of a
    matrix is summed the same way over its flat elements.

    The halving runs on an explicit stack rather than by recursion: numba cannot link a cached
    recursive function into a kernel it compiles afresh.
    """
    if end - begin <= _PAIRWISE_BLOCK:
        return _pairwise_block(values, begin, end)
    # A frame per slice being summed: its start, length, and (once its left half is summed) that sum.
    first = np.empty(64, np.int64)
    length = np.empty(64, np.int64)
    left_done = np.zeros(64, np.bool_)
    left = np.empty(64)
    top = 0
    first[0], length[0] = begin, end - begin
    while True:
        b, n = first[top], length[top]
        if n > _PAIRWISE_BLOCK:  # a new slice: its left half first
            half = n // 2
            top += 1
            first[top], length[top], left_done[top] = b, half - half % 8, False
            continue
        result = _pairwise_block(values, b, b + n)
        while True:  # hand the sum up until a slice still has its right half to sum
            if top == 0:
                return result
            top -= 1
            if left_done[top]:
                result = left[top] + result
                continue
            left[top], left_done[top] = result, True
            half = length[top] // 2
            half -= half % 8
            top += 1
            first[top], length[top], left_done[top] = first[top - 1] + half, length[top - 1] - half, False
            break
