"""Compiled loop kernels: numba compiles the plain Python loops of a day's steps.

A few steps of a day are loops over patients in arrival order (queues, claims of one resident,
beds given out in turn). numpy would do them in dozens of whole-array calls, whose overhead
dominates at city-district sizes; numba compiles the plain loop. The reference engine
(`sim.reference`) is the independent oracle the compiled engine must equal at tolerance 0.

Floating-point care: a kernel adds numbers in the order numpy would (sequential `cumsum`/`bincount`
order, or `ndarray.sum`'s pairwise order through `arrays.pairwise_sum`) and does not call
`log`/`exp` — numpy's SIMD versions differ from libm's in the last bit on some machines.
Transcendental functions stay in numpy, outside kernels.

Set the environment variable `TIERSIM_NUMBA=0` to run everything as plain Python (slow: for stepping
through a kernel in a debugger, and for mutation testing); `python_loops()` runs the kernels as
Python with their helpers compiled (tests compare the two).

Compiled kernels are cached on disk in a folder named after a digest of the package's source
(`sim/__pycache__/kernels-<digest>`): numba checks only the file that defines a kernel, so a kernel
calling a helper of another module would otherwise keep a stale compiled copy after that helper
changed. Setting `NUMBA_CACHE_DIR` overrides the folder (and this protection).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

try:
    import numba
except ImportError:  # numba is a dependency, but the simulator must run without it
    numba = None


def _kernel_cache() -> Path:
    """The cache folder of this version of the compiled code; caches of other versions are removed.

    The version is a digest of the modules that declare kernels or helpers, of the state records
    kernels take, and of the parameter modules, whose domain constants kernels read as compile-time
    constants; so editing, say, the model or the report does not recompile every kernel.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(digest_size=8)
    for source in sorted(package.rglob("*.py")):
        text = source.read_bytes()
        compiled = b"@kernel" in text or b"helper(" in text or b"@helper" in text
        if source.name in ("accel.py", "params.py", "state.py") or source.parent.name == "parameters" or compiled:
            digest.update(text)
    folder = package / "__pycache__" / f"kernels-{digest.hexdigest()}"
    if not folder.exists():
        for stale in folder.parent.glob("kernels-*"):
            shutil.rmtree(stale, ignore_errors=True)
    return folder


if numba is not None and not os.environ.get("NUMBA_CACHE_DIR"):
    # Before any kernel or helper is declared: numba picks a function's cache folder then.
    numba.config.CACHE_DIR = str(_kernel_cache())

F = TypeVar("F", bound=Callable[..., Any])

_enabled = numba is not None and os.environ.get("TIERSIM_NUMBA", "1") != "0"


def numba_enabled() -> bool:
    """Whether kernels run compiled (numba installed and not switched off)."""
    return _enabled


def use_numba(enabled: bool) -> None:
    """Run kernels compiled (True, if numba is installed) or as plain Python loops (False)."""
    global _enabled
    _enabled = enabled and numba is not None


@contextlib.contextmanager
def python_loops() -> Iterator[None]:
    """Within the block, run kernels as plain Python (tests compare them with the compiled kernels)."""
    before = _enabled
    use_numba(False)
    try:
        yield
    finally:
        use_numba(before)


def kernel(loop: F) -> F:
    """Declare a loop kernel: compiled on first use (`numba.njit`, cached on disk, so a new process loads it).

    The decorated name calls the compiled loop when numba is enabled and the plain Python loop
    otherwise (slow: for debugging and for tests that run a kernel on a few rows); `.loop` gives
    the Python function, `.dispatcher()` numba's dispatcher once compiled (else None).
    """
    compiled: Any = None

    @functools.wraps(loop)
    def call(*args: Any) -> Any:
        nonlocal compiled
        if not _enabled:
            return loop(*args)
        if compiled is None:
            compiled = numba.njit(cache=True, nogil=True)(loop)
        return compiled(*args)

    call.loop = loop  # type: ignore[attr-defined]
    call.dispatcher = lambda: compiled  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


class PinTypeError(TypeError):
    """A pinned kernel was called with arguments of other types than those it was pinned for."""


def _layout(value: Any) -> Any:
    """What numba's type of an argument depends on, read cheaply.

    A record's class and its fields', an array's dtype, dimensions, memory order and writability, a
    scalar's type (and an `int`'s range).
    """
    if isinstance(value, tuple):
        return (type(value), *map(_layout, value))
    if isinstance(value, np.ndarray):
        flags = value.flags  # numba's layout: C-contiguous first (a (1, k) array is both), then F, else any
        layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
        return value.dtype.str, value.ndim, layout, flags.writeable, flags.aligned
    if type(value) is int:
        return int, -(2**63) <= value < 2**63
    return type(value)


class Pins:
    """Kernels' compiled versions resolved at their first call, then called directly, without typing the arguments.

    numba types every argument of a call to choose the compiled version: ≈0.2 µs an array, so
    ≈20 µs a call for a phase's records of about a hundred arrays. A model builds its records with
    the same types day after day, so the version its first call found serves the next ones;
    `clear()` forgets them (the model clears them when a year's tables are rebuilt). With the
    environment variable `TIERSIM_CHECK_PINS=1` (the test suite sets it) calls check that their
    arguments are laid out as at the pin (`_layout`: what their numba types depend on) and raise
    `PinTypeError` if not: the first `CHECK_ALL` calls after a pin, then one in `CHECK_EVERY` (a
    check costs about as much as a small day's work). A copy or a pickle of a model starts with no pins.
    """

    CHECK_ALL = 8
    CHECK_EVERY = 16

    def __init__(self) -> None:
        self._entries: dict[Callable[..., Any], tuple[Callable[..., Any], tuple[Any, ...]]] = {}
        self._check = os.environ.get("TIERSIM_CHECK_PINS", "0") == "1"
        self._calls = 0

    def __call__(self, kernel: Callable[..., Any], *args: Any) -> Any:
        """`kernel(*args)`, through its pinned compiled version once there is one."""
        pinned = self._entries.get(kernel)
        if pinned is not None:
            entry, layouts = pinned
            self._calls += 1
            if self._check and (self._calls <= self.CHECK_ALL or self._calls % self.CHECK_EVERY == 0):
                got = tuple(map(_layout, args))
                if got != layouts:
                    wrong = next(i for i, (a, b) in enumerate(zip(got, layouts, strict=True)) if a != b)
                    raise PinTypeError(f"{kernel.__name__}: argument {wrong} is {got[wrong]}, pinned {layouts[wrong]}")
            return entry(*args)
        result = kernel(*args)
        dispatcher = getattr(kernel, "dispatcher", lambda: None)()
        if dispatcher is not None:
            overload = dispatcher.overloads.get(tuple(dispatcher.typeof_pyval(arg) for arg in args))
            if overload is not None:
                self._entries[kernel] = (overload.entry_point, tuple(map(_layout, args)))
        return result

    def clear(self) -> None:
        """Forget every pin: the next call of each kernel resolves its version again."""
        self._entries.clear()
        self._calls = 0

    def __reduce__(self) -> tuple[type[Pins], tuple[()]]:
        return Pins, ()


def helper(loop: F) -> F:
    """A loop function that kernels call (they can only call compiled code); compiled on first use.

    With numba switched off when the package is imported (`TIERSIM_NUMBA=0`), helpers stay plain
    Python too, so the whole engine runs as Python (mutation testing changes the source of rules
    without recompiling them).
    """
    return numba.njit(cache=True, nogil=True)(loop) if _enabled else loop
