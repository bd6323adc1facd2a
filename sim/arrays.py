"""Array helpers for the daily loop: exact, faster equivalents of a few numpy idioms on small arrays."""

from __future__ import annotations

import numpy as np

_DIGIT = 1 << 16


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")`, faster for integer keys in [0, 2**32).

    numpy sorts 16-bit integers by radix sort, in linear time; larger keys are sorted by their low
    16 bits, then stably by their high 16 bits (least significant digit first), which gives the one
    stable order. Other keys fall back to numpy's stable sort.
    """
    if keys.size == 0 or keys.dtype.kind not in "iu":
        return np.argsort(keys, kind="stable")
    low, high = keys.min(), keys.max()
    if low < 0 or high >= _DIGIT * _DIGIT:
        return np.argsort(keys, kind="stable")
    if high < _DIGIT:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    order = np.argsort((keys & (_DIGIT - 1)).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


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


def add_in_batches(target: np.ndarray, row: np.ndarray, values: np.ndarray, bounds: list[int] | None = None) -> None:
    """Add `values[i]` to `target[row[i]]`, batch after batch, touching only the rows named.

    Same floating-point result as `target[:, j] += np.bincount(row, weights=values[:, j])` for each
    batch in turn: within a batch each row's values are summed in order, starting from zero, and each
    batch's sum is added to the row after the earlier batches' sums.

    Args:
        target: (R, m) array updated in place.
        row: (n,) row of `target` each value goes to.
        values: (n, m) values.
        bounds: Where each consecutive batch begins, then the end (default: one batch).
    """
    n_rows, m = target.shape
    key = row.astype(np.int64)
    if bounds is not None and len(bounds) > 2:
        batch = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
        key = batch * n_rows + key
    order = stable_argsort(key)
    sorted_key = key[order]
    new = np.empty(key.size, dtype=bool)
    new[:1] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new[1:])
    group = np.empty(key.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    sums = np.bincount(
        ((group * m)[:, None] + np.arange(m)).ravel(), weights=values.ravel(), minlength=int(new.sum()) * m
    )
    # Rows are in batch order, so a row named in several batches gets their sums in that order.
    np.add.at(target, sorted_key[new] % n_rows, sums.reshape(-1, m))
