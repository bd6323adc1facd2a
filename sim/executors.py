"""Where runs execute: this process, local processes, or a Dask cluster — one code path for all.

Sweeps, sensitivity analyses and calibrations submit runs to a `concurrent.futures.Executor`. Local
processes use `ProcessPoolExecutor`; a Dask cluster (an existing scheduler, or a `LocalCluster`
started here) is used through `distributed.Client.get_executor()`, which offers the same
interface, so no code differs between a laptop and a cluster. Dask is the optional extra
``tiersim[dask]``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sim.config import ScenarioError

CONNECT_TIMEOUT_S = 10
"""How long to try to reach a Dask scheduler before giving up (seconds)."""


@dataclass(frozen=True)
class ExecutorChoice:
    """What the user asked for: at most one of local workers, a scheduler address, a local Dask cluster.

    Attributes:
        workers: Local processes (None: one per core).
        scheduler: Address of a running Dask scheduler, e.g. "tcp://10.0.0.5:8786".
        dask_local: Workers of a Dask LocalCluster to start for this job.
    """

    workers: int | None = None
    scheduler: str | None = None
    dask_local: int | None = None

    def check(self) -> None:
        """Reject impossible combinations and counts (one-line `ScenarioError`)."""
        given = [f for f in ("workers", "scheduler", "dask_local") if getattr(self, f) is not None]
        if len(given) > 1:
            flags = " and ".join(f"--{f.replace('_', '-')}" for f in given)
            raise ScenarioError(f"{flags}: give only one way to run (local workers, a scheduler or a local cluster)")
        for flag, value in (("--workers", self.workers), ("--dask-local", self.dask_local)):
            if value is not None and not 1 <= value <= 1024:
                raise ScenarioError(f"{flag} = {value} is invalid: allowed ≥ 1 and ≤ 1024")
        if self.scheduler is not None and not self.scheduler.strip():
            raise ScenarioError("--scheduler: give the scheduler's address, e.g. tcp://host:8786")

    def describe(self) -> str:
        """Human description, e.g. "2 local processes"."""
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        if self.dask_local:
            return f"Dask LocalCluster with {self.dask_local} workers"
        n = self.workers or os.cpu_count() or 1
        return "this process" if n == 1 else f"{n} local processes"


def _distributed() -> ModuleType:
    """The dask.distributed module, imported only when a cluster is asked for."""
    try:
        import distributed
    except ImportError:
        raise ScenarioError(
            "Dask is not installed: pip install 'tiersim[dask]' to use --scheduler or --dask-local"
        ) from None
    return distributed


@contextmanager
def dask_client(choice: ExecutorChoice) -> Iterator[Any]:
    """A `distributed.Client` for a choice that names a scheduler or a local cluster, closed on exit.

    ABC-SMC (`sim.abc`) hands it to pyabc's Dask sampler; everything else uses `open_executor`.
    A scheduler that cannot be reached fails here, before any run, with a one-line `ScenarioError`.
    """
    distributed = _distributed()
    with ExitStack() as stack:
        if choice.scheduler is not None:
            try:
                client = distributed.Client(choice.scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError, ValueError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise ScenarioError(
                    f"--scheduler {choice.scheduler}: cannot reach the Dask scheduler ({reason})"
                ) from None
        else:
            cluster = distributed.LocalCluster(
                n_workers=choice.dask_local,
                threads_per_worker=1,  # a run is single-threaded numpy; one run per core
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            stack.callback(cluster.close)
            client = distributed.Client(cluster)
        stack.callback(client.close)
        yield client


@contextmanager
def open_executor(choice: ExecutorChoice) -> Iterator[Executor | None]:
    """The executor for `choice`, shut down on exit; None means run in this process.

    A scheduler that cannot be reached fails here, before any run, with a one-line `ScenarioError`.
    """
    choice.check()
    if choice.scheduler is not None or choice.dask_local is not None:
        with dask_client(choice) as client:
            yield client.get_executor(pure=False)  # pure=False: never merge two runs into one task
        return
    workers = choice.workers or os.cpu_count() or 1
    if workers == 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
