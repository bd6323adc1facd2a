"""Common random numbers: every draw is a pure function of (seed, stream, keys).

A scenario and its baseline must see the same residents and the same illnesses, so a draw may not
depend on how many draws came before it. Draws here are counter-based: a SplitMix64 finaliser
hashes (seed, stream name, key...) to 64 random bits, vectorised over numpy arrays of keys — the
construction of counter-based generators such as Philox and Threefry, cheap enough to key by
resident and event. Anything that is not per resident or per episode (there is little) uses a
`numpy.random.Generator` from `generator()`, derived from the same seed.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

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
    for k in keys:
        words = _as_words(k)
        mixed = (words.reshape(1) if words.ndim == 0 else words) + _GOLDEN
        # XOR into the fresh array where it already has the result's shape: one large array less.
        h = _mix(np.bitwise_xor(h, mixed, out=mixed) if h.shape in (mixed.shape, (1,)) else h ^ mixed)
    return h


@functools.lru_cache(maxsize=1024)
def _stream_words(seed: int, stream: str) -> np.ndarray:
    """The stream key as a read-only one-element array (hashing starts from a copy of it)."""
    words = np.full(1, stream_key(seed, stream), dtype=np.uint64)
    words.setflags(write=False)
    return words


def _unit_floats(words: np.ndarray, offset: float) -> np.ndarray:
    """(top 53 bits + offset) × 2**−53, computed in place on fresh arrays (a year's draws are large)."""
    words >>= np.uint64(11)
    unit = words.astype(np.float64)
    if offset:
        unit += offset
    unit *= _TO_UNIT
    return unit


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
    return _exponential(bits(seed, stream, *keys))


def exponential_after(words: np.ndarray, key: np.ndarray | int) -> np.ndarray:
    """`exponential(seed, stream, *keys, key)` from `words = bits(seed, stream, *keys)`.

    A loop over the last key (an event number) hashes the keys before it only once.
    """
    return _exponential(_hash(words, (key,)))


def _exponential(words: np.ndarray) -> np.ndarray:
    draws = _unit_floats(words, 0.5)
    np.log(draws, out=draws)
    return np.negative(draws, out=draws)


def normal(seed: int, stream: str, *keys: np.ndarray | int) -> np.ndarray:
    """Standard normal draws by inverse CDF (keeps one uniform per draw, so draws stay keyed)."""
    from scipy.special import ndtri

    return ndtri(uniform_open(seed, stream, *keys))


def generator(seed: int, stream: str) -> np.random.Generator:
    """A numpy Generator for draws that are not keyed by resident or episode."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(stream_key(0, stream))]))
