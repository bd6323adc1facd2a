"""Common random numbers: every draw is a pure function of (seed, stream, keys).

A scenario and its baseline must see the same residents and the same illnesses, so a draw may not
depend on how many draws came before it. Draws here are counter-based: a SplitMix64 finaliser
hashes (seed, stream name, key...) to 64 random bits, over numpy arrays of keys (in a compiled loop,
see `accel`) — the construction of counter-based generators such as Philox and Threefry, cheap
enough to key by resident and event. Anything that is not per resident or per episode (there is
little) uses a `numpy.random.Generator` from `generator()`, derived from the same seed.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from sim.accel import helper, kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, in place; uint64 arithmetic wraps modulo 2**64 by design."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _as_words(key: np.ndarray | int) -> np.ndarray:
    """Keys as uint64 words; negative integers (the warm-up year −1) wrap to distinct words."""
    a = np.asarray(key)
    if a.dtype.kind == "i":
        return a.astype(np.int64, copy=False).view(np.uint64)
    return a.astype(np.uint64, copy=False)


@functools.lru_cache(maxsize=1024)
def stream_key(seed: int, stream: str) -> np.uint64:
    """64-bit key of a named stream under a seed (stable across processes and platforms)."""
    digest = hashlib.blake2b(f"{int(seed)}/{stream}".encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def bits(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Random 64-bit words for each element of the broadcast keys.

    Args:
        seed: Run seed.
        stream: Name of the stream (e.g. "illness.acute"); different names are independent.
        *keys: Integer keys (arrays broadcast together), e.g. (year, resident, event number).

    Returns:
        uint64 array with the broadcast shape of the keys.
    """
    h = _hash(_stream_words(seed, stream), keys)
    return h.reshape(()) if all(np.ndim(k) == 0 for k in keys) else h


def _hash(h: np.ndarray, keys: tuple[np.ndarray | int, ...]) -> np.ndarray:
    """Hash keys one by one into the words `h` (left unchanged; the result is a new array)."""
    # Scalar keys (a year) are hashed as one-element arrays, so a leading scalar is hashed once and
    # integer overflow wraps silently as it does for arrays.
    fresh = False  # `h` was made here, so later keys may be hashed into it in place
    for k in keys:
        words = np.asarray(k)
        words = words.reshape(1) if words.ndim == 0 else words
        if words.dtype.kind in "biu" and (h.size == 1 or words.size == 1 or h.shape == words.shape):
            # No broadcasting beyond a single word: one pass over flat arrays.
            shape = _joint_shape(h, words)
            out = h if fresh and h.shape == shape else np.empty(shape, dtype=np.uint64)
            _hash_words(h.reshape(-1), words.reshape(-1), out.reshape(-1))
            h = out
        elif words.dtype.kind in "biu" and h.ndim == words.ndim == 2 and h.shape[1] == 1 and words.shape[0] == 1:
            # A column against a row (episodes × candidate slots): one compiled pass over the outer product.
            h = _hash_outer(h.reshape(-1), words.reshape(-1), np.empty((h.shape[0], words.shape[1]), dtype=np.uint64))
        else:
            h = _mix(h ^ (_as_words(words) + _GOLDEN))
        fresh = True
    return h


def _joint_shape(a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    """`np.broadcast_shapes(a.shape, b.shape)` where one is a single word or both agree (fast: every draw asks)."""
    if a.shape == b.shape or (b.size == 1 and b.ndim <= a.ndim):
        return a.shape
    if a.size == 1 and a.ndim <= b.ndim:
        return b.shape
    return np.broadcast_shapes(a.shape, b.shape)


@kernel
def _hash_words(h: np.ndarray, words: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`out = _mix(h ^ (words + GOLDEN))` of flat arrays, either of which may be a single word.

    `words` may be of any integer type (converted as `_as_words` does); `out` may be `h`.
    """
    for i in range(out.size):
        out[i] = hash_word(h[0 if h.size == 1 else i], words[0 if words.size == 1 else i])
    return out


@kernel
def _hash_outer(h: np.ndarray, words: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`out[i, j] = _mix(h[i] ^ (words[j] + GOLDEN))`: flat `h` against flat `words` (any integer type)."""
    for i in range(h.size):
        for j in range(words.size):
            out[i, j] = hash_word(h[i], words[j])
    return out


@helper
def hash_word(h: np.uint64, key: int) -> np.uint64:
    """`bits_after(h, key)` of one word and one integer key, for kernels (they cannot call numpy code)."""
    x = h ^ (np.uint64(key) + _GOLDEN)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    return x ^ (x >> np.uint64(31))


@helper
def unit_float(word: np.uint64, offset: float) -> float:
    """(top 53 bits of `word` + offset) × 2**−53, for kernels: 0.0 gives `uniform`'s draw, 0.5 `uniform_open`'s."""
    return (np.float64(word >> np.uint64(11)) + offset) * _TO_UNIT


@helper
def hash_pair(h: np.uint64, first: int, second: int) -> np.uint64:
    """`hash_word(hash_word(h, first), second)`: a word keyed by two integers, for kernels (one compiled call)."""
    return hash_word(hash_word(h, first), second)


@helper
def keyed_unit_float(h: np.uint64, key: int, offset: float) -> float:
    """`unit_float(hash_word(h, key), offset)`: one keyed uniform draw, for kernels.

    One compiled call, so a kernel run as plain Python passes no 64-bit word through Python's `int`.
    """
    return unit_float(hash_word(h, key), offset)


@functools.lru_cache(maxsize=1024)
def _stream_words(seed: int, stream: str) -> np.ndarray:
    """The stream key as a read-only one-element array (hashing starts from a copy of it)."""
    words = np.full(1, stream_key(seed, stream), dtype=np.uint64)
    words.setflags(write=False)
    return words


@kernel
def _unit_floats_flat(words: np.ndarray, offset: float, out: np.ndarray) -> np.ndarray:
    for i in range(out.size):
        out[i] = unit_float(words[i], offset)
    return out


def _unit_floats(words: np.ndarray, offset: float) -> np.ndarray:
    """(top 53 bits + offset) × 2**−53, in place: `words` are fresh (made by `_hash`), and a year's draws are large."""
    out = words.view(np.float64)
    _unit_floats_flat(words.reshape(-1), offset, out.reshape(-1))
    return out


def uniform(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform draws in [0, 1), one per element of the broadcast keys."""
    return _unit_floats(bits(seed, stream, *keys), 0.0)


def uniform_open(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Uniform draws in (0, 1): safe to take the logarithm of."""
    return _unit_floats(bits(seed, stream, *keys), 0.5)


def gumbel(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Standard Gumbel draws (the error term of a multinomial logit): −ln(−ln u)."""
    draws = exponential(seed, stream, *keys)
    np.log(draws, out=draws)
    return np.negative(draws, out=draws)


def exponential(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Standard exponential draws (mean 1): −ln u."""
    return _exponential(uniform_open(seed, stream, *keys))


def exponential_after(words: np.ndarray, key: np.ndarray | int) -> np.ndarray:
    """`exponential(seed, stream, *keys, key)` from `words = bits(seed, stream, *keys)`.

    A loop over the last key (an event number) hashes the keys before it only once.
    """
    return _exponential(uniform_open_after(words, key))


def bits_after(words: np.ndarray | np.uint64, key: np.ndarray | int) -> np.ndarray:
    """`bits(seed, stream, *keys, key)` from `words = bits(seed, stream, *keys)`.

    Without `keys`, `words` is `stream_key(seed, stream)`. Scalar arguments give one-element arrays.
    """
    return _hash(np.asarray(words, dtype=np.uint64), (key,))


def uniform_after(words: np.ndarray | np.uint64, key: np.ndarray | int) -> np.ndarray:
    """`uniform(seed, stream, *keys, key)` from `words` as in `bits_after`."""
    return _unit_floats(bits_after(words, key), 0.0)


def uniform_open_after(words: np.ndarray | np.uint64, key: np.ndarray | int) -> np.ndarray:
    """`uniform_open(seed, stream, *keys, key)` from `words` as in `bits_after`."""
    return _unit_floats(bits_after(words, key), 0.5)


def _exponential(draws: np.ndarray) -> np.ndarray:
    """−ln u of fresh uniform draws in (0, 1), in place."""
    np.log(draws, out=draws)
    return np.negative(draws, out=draws)


def normal(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Standard normal draws by inverse CDF (keeps one uniform per draw, so draws stay keyed)."""
    from scipy.special import ndtri

    return ndtri(uniform_open(seed, stream, *keys))


def generator(seed: int, stream: str) -> np.random.Generator:
    """A numpy Generator for draws that are not keyed by resident or episode."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(stream_key(0, stream))]))
