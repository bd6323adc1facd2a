"""A resumable Parquet store of finished runs: one row per run, written as each run finishes.

Layout of a store folder::

    experiment.json   what was asked (the experiment's fingerprint, name, code version)
    runs/             one Parquet file per finished run while the experiment is going on
    runs.parquet      every run, sorted by run id, once the experiment is complete

Each run's file is written to a temporary name and renamed, so a killed process leaves either the
whole file or none of it. Running the same experiment again reads which run ids are stored and
runs only the rest; the rows of a resumed store equal an uninterrupted store's, row for row.
Time taken and host are kept in each file's Parquet metadata, not in the rows, for the same reason.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from sim.config import ScenarioError
from sim.paths import writing
from sim.runner import atomic_file

MANIFEST = "experiment.json"
PARTS = "runs"
COMPACT = "runs.parquet"


def _atomic_write_table(table: pa.Table, path: Path) -> None:
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)


class RunStore:
    """The store in one folder.

    Args:
        folder: The store's folder (created by `open`).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    @property
    def parts(self) -> Path:
        """Folder of per-run files."""
        return self.folder / PARTS

    def open(self, fingerprint: str, manifest: dict[str, Any]) -> None:
        """Create the store, or check that an existing one holds this experiment, run by this code.

        Args:
            fingerprint: What must match to resume (see `Experiment.fingerprint`).
            manifest: Descriptive fields written beside it (name, design, `code_version`).

        Raises:
            ScenarioError: If the folder holds another experiment's runs, runs of another code
                version (resuming would mix two models' results), or other files.
        """
        path = self.folder / MANIFEST
        if path.is_file():
            try:
                stored = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                raise ScenarioError(f"--out {self.folder}: {MANIFEST} is unreadable; remove the folder") from None
            if stored.get("fingerprint") != fingerprint:
                raise ScenarioError(
                    f"--out {self.folder}: holds runs of a different experiment ('{stored.get('name')}' or other "
                    "settings); choose another --out or delete the folder"
                )
            if stored.get("code_version") != manifest.get("code_version"):
                raise ScenarioError(
                    f"--out {self.folder}: its runs were made by code {stored.get('code_version')!r}, this is "
                    f"{manifest.get('code_version')!r}; resuming would mix two models' results: choose another --out"
                )
        elif self.folder.exists() and any(self.folder.iterdir()):
            raise ScenarioError(f"--out {self.folder}: folder exists and is not a tiersim store; choose another --out")
        else:
            with writing(self.folder):
                self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_file(path) as tmp:
                tmp.write_text(json.dumps({**manifest, "fingerprint": fingerprint}, indent=2, default=str), "utf-8")
        with writing(self.parts):  # the folder itself is made by the first `add`: a complete store has none
            for stale in self.parts.glob(".*.tmp"):  # a write cut short by a kill
                stale.unlink()

    def _part(self, run_id: int) -> Path:
        return self.parts / f"run-{run_id:07d}.parquet"

    def done(self) -> set[int]:
        """Ids of the stored runs."""
        ids = {int(p.stem.split("-")[1]) for p in self.parts.glob("run-*.parquet")} if self.parts.is_dir() else set()
        compact = self.folder / COMPACT
        if compact.is_file():
            ids |= set(pq.read_table(compact, columns=["run_id"]).column("run_id").to_pylist())
        return ids

    def add(self, row: dict[str, Any], meta: dict[str, Any]) -> None:
        """Store one finished run (atomically); `meta` (time taken, host) goes into the file's metadata."""
        with writing(self.parts):
            self.parts.mkdir(exist_ok=True)
        table = pa.Table.from_pylist([row])
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"tiersim": json.dumps(meta)})
        _atomic_write_table(table, self._part(int(row["run_id"])))

    def forget(self, run_ids: set[int]) -> None:
        """Remove runs (e.g. failed ones to retry) from the store."""
        self.compact()
        compact = self.folder / COMPACT
        if compact.is_file():
            table = pq.read_table(compact)
            keep = pa.compute.invert(pa.compute.is_in(table.column("run_id"), pa.array(sorted(run_ids), pa.int64())))
            _atomic_write_table(table.filter(keep), compact)

    def read(self) -> pd.DataFrame:
        """Every stored run, one row each, sorted by run id (an empty frame if none)."""
        frames = []
        compact = self.folder / COMPACT
        if compact.is_file():
            frames.append(pd.read_parquet(compact))
        if self.parts.is_dir():
            frames += [pd.read_parquet(p) for p in sorted(self.parts.glob("run-*.parquet"))]
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        table = pd.concat(frames, ignore_index=True)
        # A kill between compaction and removing the parts leaves a run in both; keep one.
        table = table.drop_duplicates("run_id").sort_values("run_id", kind="stable").reset_index(drop=True)
        return table

    def timings(self) -> pd.DataFrame:
        """Time taken and host of every stored run: run_id, seconds, host."""
        meta: dict[str, dict[str, Any]] = {}
        compact = self.folder / COMPACT
        if compact.is_file():
            meta.update(json.loads((pq.read_schema(compact).metadata or {}).get(b"tiersim", b"{}")))
        if self.parts.is_dir():
            for p in sorted(self.parts.glob("run-*.parquet")):
                stored = (pq.read_schema(p).metadata or {}).get(b"tiersim", b"{}")
                meta[str(int(p.stem.split("-")[1]))] = json.loads(stored)
        rows = [{"run_id": int(k), **v} for k, v in meta.items()]
        return pd.DataFrame(rows).sort_values("run_id").reset_index(drop=True) if rows else pd.DataFrame()

    def compact(self) -> None:
        """Merge the per-run files into runs.parquet (atomically, timings in its metadata), then remove them."""
        if not self.parts.is_dir() or not any(self.parts.glob("run-*.parquet")):
            return
        timings = {str(r.pop("run_id")): r for r in self.timings().to_dict(orient="records")}
        table = pa.Table.from_pandas(self.read(), preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"tiersim": json.dumps(timings)})
        _atomic_write_table(table, self.folder / COMPACT)
        with writing(self.parts):
            shutil.rmtree(self.parts)
