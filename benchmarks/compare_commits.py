"""Speed and peak memory of two commits side by side, in one sitting, as ratios HEAD / BASE.

Usage:
    python benchmarks/compare_commits.py BASE [HEAD]         # both targets, 3 pairs of runs each
    python benchmarks/compare_commits.py 2d7c72a HEAD --targets city --repeats 5
    python benchmarks/compare_commits.py 2d7c72a --scale 0.05 --years 1 --repeats 1   # a quick trial

BASE and HEAD are git revisions of this repository (HEAD defaults to the checked-out commit;
uncommitted changes are not part of it). Each is exported with `git archive` into a temporary
folder, removed at the end, also on Ctrl-C. Every run is a fresh process with `PYTHONPATH` set to
one export, running the same workload through functions both commits have:

- `city`: the default scenario (the one `tiersim run` runs without a file; scenarios/baseline.toml
  writes out its values) at scale 1, 2.5 million residents, for 5 years: one `sim.run`.
- `sweep`: the points of a sweep as one worker runs them: the first `--points` design points of
  benchmarks/sweep_time.py's experiment (four levers on from year 1, run.scale 0.04, 100,000
  residents, 5 years, one seed), one after another in one process through
  `sim.sweep.run_indicators`, so each point after the first starts from the shared beginning
  (`sim.checkpoint`) as in a sweep.

Each export is warmed up first by one untimed process running every target at its own scale for
at most two years (numba compiles the kernels on first use and caches them in the export; the
compile is not what is compared; a kernel compiled in a timed run anyway is named under the
table). Then each target runs BASE, HEAD, BASE, HEAD, … `--repeats` pairs, so a machine's slow hour slows
both alike. A run's time is its workload's wall time measured in the child (scenario loading and
simulation; not the interpreter's start and imports), its memory the child's peak resident set
size. The ratio is the median of the pairs' HEAD / BASE ratios, shown with their range.

Tables are printed as Markdown (`--record FILE` also appends them to FILE) and every figure is
written to results/bench/compare-<base>-<head>.json (`--out` to change).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]
EXIT_USAGE, EXIT_FAILED = 2, 1
TARGETS = ("city", "sweep")
CITY_SCALE, SWEEP_SCALE, YEARS = 1.0, 0.04, 5  # 2.5 million and 100,000 residents
SWEEP_POINTS = 4
# The warm-up runs each target at its own scale (some kernels are used only above a number of residents,
# e.g. the fast Beta quantiles from 20,000 draws) for at most two years (levers act from year 1).
WARMUP_YEARS, WARMUP_POINTS = 2, 2
CHILD = "--child"  # first argument of this file run as a measured process


# --- The measured process: only the standard library and the export's `sim` are imported here. ---


def child(spec_path: Path) -> None:
    """Run the workloads of a spec file with the `sim` on `PYTHONPATH`, and write their figures as JSON.

    Args:
        spec_path: JSON with `checkout` (the export `sim` must come from), `workloads` (each an
            `entry`, "run" or "sweep", and `runs`: overrides and seed of each scenario) and
            `result` (where to write the figures).
    """
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    import sim

    # An installed copy of tiersim must not stand in for the commit being measured.
    expected = Path(spec["checkout"]).resolve() / "sim"
    if Path(sim.__file__).resolve().parent != expected:
        raise SystemExit(f"imported sim from {Path(sim.__file__).parent}, not from {expected}")
    figures = []
    if any(workload["entry"] == "sweep" for workload in spec["workloads"]):
        from sim.sweep import run_indicators
    for workload in spec["workloads"]:
        seconds, digest, residents = [], hashlib.sha256(), None
        for one in workload["runs"]:
            started = time.perf_counter()
            scenario = sim.load_scenario(None, one["overrides"])
            if workload["entry"] == "run":
                results = sim.run(scenario, seed=one["seed"])
                seconds.append(time.perf_counter() - started)
                residents = results.summary.get("residents")
                digest.update(results.daily.to_csv().encode())
            else:
                values = run_indicators(scenario, one["seed"])
                seconds.append(time.perf_counter() - started)
                digest.update(json.dumps(values, sort_keys=True).encode())
        figures.append({"seconds": sum(seconds), "run_seconds": seconds, "residents": residents})
        figures[-1]["digest"] = digest.hexdigest()[:16]
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    Path(spec["result"]).write_text(json.dumps({"workloads": figures, "peak_mib": peak}), encoding="utf-8")


# --- The comparison. ---


class Failed(Exception):
    """A revision, option or run that stops the comparison: the message is one line.

    Attributes:
        status: The exit status: 2 for what the command line asked (a revision, a value), 1 for a failed run.
    """

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Workload:
    """One target's work, the same for both commits.

    Attributes:
        target: "city" or "sweep".
        entry: "run" (`sim.run` per scenario) or "sweep" (`sim.sweep.run_indicators`, one process's cache).
        runs: Overrides of the default scenario and seed (None: the scenario's) of each scenario run.
        scale: `run.scale`.
        years: Simulated years.
    """

    target: str
    entry: str
    runs: list[dict[str, Any]]
    scale: float
    years: int

    def describe(self) -> str:
        """What one measured run does, for the table's heading."""
        residents = f"{self.scale * 2_500_000:,.0f} residents"
        if self.entry == "run":
            return f"`{self.target}`: the default scenario, {residents} (scale {self.scale:g}) × {in_years(self.years)}"
        return (
            f"`{self.target}`: {len(self.runs)} sweep points in one process, {residents} (scale {self.scale:g}) "
            f"× {in_years(self.years)} each"
        )


@dataclass
class Side:
    """One commit under comparison and its measurements.

    Attributes:
        label: "BASE" or "HEAD".
        revision: As given on the command line.
        commit: Full hash.
        short: Abbreviated hash, for tables and file names.
        checkout: Its exported tree.
        warmup: Seconds of the warm-up process (with the compile).
        runs: Per target, each measured run's figures.
    """

    label: str
    revision: str
    commit: str
    short: str
    checkout: Path = Path()
    warmup: float = 0.0
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def in_years(n: int) -> str:
    """`n` years, in words."""
    return f"{n} year{'s' if n != 1 else ''}"


def git(*args: str) -> str:
    """Output of a git command in this repository.

    Raises:
        Failed: If git fails, with its first line of complaint.
    """
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"git {' '.join(args)}: {(done.stderr.strip().splitlines() or ['failed'])[0]}")
    return done.stdout.strip()


def resolve(label: str, revision: str) -> Side:
    """The commit a revision names.

    Raises:
        Failed: If it names no commit of this repository.
    """
    try:
        commit = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    except Failed:
        raise Failed(f"{label} {revision!r}: not a commit of this repository") from None
    return Side(label, revision, commit, git("rev-parse", "--short", commit))


def export(side: Side, folder: Path) -> None:
    """Write the commit's tree into `folder` (`git archive`: nothing is registered in the repository)."""
    folder.mkdir()
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", side.commit], stdout=subprocess.PIPE)
    untar = subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, capture_output=True, text=True)
    archive.stdout.close()  # type: ignore[union-attr]
    if archive.wait() != 0 or untar.returncode != 0:
        raise Failed(f"{side.label} {side.short}: exporting the tree failed: {untar.stderr.strip()}", EXIT_FAILED)
    side.checkout = folder


def measure(side: Side, workloads: list[Workload], scratch: Path, what: str) -> dict[str, Any]:
    """Run workloads in one fresh process on a side's export and return its figures.

    Raises:
        Failed: If the process fails, with the last line it wrote.
    """
    spec, result = scratch / f"{side.label}-spec.json", scratch / f"{side.label}-result.json"
    result.unlink(missing_ok=True)
    spec.write_text(
        json.dumps(
            {
                "checkout": str(side.checkout),
                "workloads": [{"entry": w.entry, "runs": w.runs} for w in workloads],
                "result": str(result),
            }
        ),
        encoding="utf-8",
    )
    # The export alone on the path: neither this checkout nor an installed copy is measured.
    env = {**os.environ, "PYTHONPATH": str(side.checkout)}
    cache = compiled_kernels(side.checkout)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), CHILD, str(spec)],
        cwd=side.checkout,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    process = time.perf_counter() - started
    if done.returncode != 0 or not result.exists():
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise Failed(f"{what} at {side.label} {side.short} failed: {last}", EXIT_FAILED)
    after = compiled_kernels(side.checkout)
    compiled = sorted(name for name, mtime in after.items() if cache.get(name) != mtime)
    return {**json.loads(result.read_text(encoding="utf-8")), "process_seconds": process, "compiled": compiled}


def compiled_kernels(checkout: Path) -> dict[str, float]:
    """Numba's cache files in an export, with their modification times: new ones mean a compile in that run."""
    return {str(path.relative_to(checkout)): path.stat().st_mtime for path in checkout.rglob("*.nb[ic]")}


def city(scale: float, years: int) -> Workload:
    """The `city` target: one run of the default scenario."""
    return Workload(
        "city", "run", [{"overrides": [f"run.scale={scale}", f"run.years={years}"], "seed": None}], scale, years
    )


def sweep(scale: float, years: int, points: int) -> Workload:
    """The `sweep` target: the first `points` points of benchmarks/sweep_time.py's experiment, one seed."""
    from sweep_time import EXPERIMENT

    from sim.experiment import load_experiment

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark.toml"
        path.write_text(EXPERIMENT.format(runs=points, scale=scale, years=years), encoding="utf-8")
        experiment = load_experiment(path)
    runs = []
    for _, row in experiment.points.iterrows():
        # json.dumps writes numbers (and strings) as TOML reads them back in `--set`.
        varied = [
            f"{key}={json.dumps(value.item() if hasattr(value, 'item') else value)}" for key, value in row.items()
        ]
        runs.append({"overrides": [*experiment.spec.set, *varied], "seed": experiment.seeds[0]})
    return Workload("sweep", "sweep", runs, scale, years)


def summarise(base: Side, head: Side, workload: Workload) -> dict[str, Any]:
    """Medians, the pairs' ratios and peak memory of one target."""
    b, h = base.runs[workload.target], head.runs[workload.target]
    ratios = [hr["seconds"] / br["seconds"] for br, hr in zip(b, h, strict=True)]
    base_peak, head_peak = max(r["peak_mib"] for r in b), max(r["peak_mib"] for r in h)
    return {
        "base_seconds": statistics.median(r["seconds"] for r in b),
        "head_seconds": statistics.median(r["seconds"] for r in h),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "pair_ratios": ratios,
        "base_peak_mib": base_peak,
        "head_peak_mib": head_peak,
        "peak_ratio": head_peak / base_peak,
        "same_results": {r["digest"] for r in b} == {r["digest"] for r in h} and len({r["digest"] for r in b}) == 1,
        "residents": b[0]["residents"],
        "compiled": {
            side.label: sorted({k for r in side.runs[workload.target] for k in r["compiled"]}) for side in (base, head)
        },
    }


def table(base: Side, head: Side, workload: Workload, s: dict[str, Any], repeats: int) -> str:
    """One target's Markdown table."""
    from run_time import host

    pairs = f"{repeats} pair{'s' if repeats > 1 else ''}"
    lines = [
        f"### {workload.describe()}: BASE {base.short} against HEAD {head.short}, {pairs} — {host()}",
        "",
        f"| | BASE {base.short} | HEAD {head.short} | HEAD / BASE |",
        "|---|---|---|---|",
        f"| wall time (s), median of {repeats} | {s['base_seconds']:.2f} | {s['head_seconds']:.2f} "
        f"| **{s['ratio']:.3f}** ({s['ratio_min']:.3f}–{s['ratio_max']:.3f} over {pairs}) |",
        f"| peak memory (MiB) | {s['base_peak_mib']:,.0f} | {s['head_peak_mib']:,.0f} | {s['peak_ratio']:.3f} |",
        "",
        f"Results: {'identical' if s['same_results'] else 'DIFFERENT'} "
        f"({'daily tables' if workload.entry == 'run' else 'indicators of every point'}).",
    ]
    for label, files in s["compiled"].items():
        if files:  # the warm-up missed a kernel: its compile time is in this side's figures
            lines.append(
                f"Warning: {label} compiled kernels during timed runs ({len(files)} cache files, e.g. {files[0]})."
            )
    return "\n".join(lines) + "\n"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write the figures atomically: an interrupted write leaves an earlier file as it was."""
    from sim.runner import atomic_file

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def compare(args: argparse.Namespace, targets: list[str]) -> None:
    """Export both commits, warm them up, measure the targets pair by pair, then report.

    Raises:
        Failed: On a bad revision or a failed run.
    """
    from run_time import host, report

    from sim.config import ScenarioError, load_scenario
    from sim.paths import check_output

    base, head = resolve("BASE", args.base), resolve("HEAD", args.head)
    years = YEARS if args.years is None else args.years
    scales = {"city": CITY_SCALE, "sweep": SWEEP_SCALE} if args.scale is None else dict.fromkeys(TARGETS, args.scale)
    out = args.out or Path("results") / "bench" / f"compare-{base.short}-{head.short}.json"
    try:  # a bad value or an unwritable --out is one line now, not after minutes of runs
        load_scenario(None, [f"run.scale={scales['city']}", f"run.years={years}"])
        check_output(out, folder=False)
    except ScenarioError as exc:
        raise Failed(str(exc)) from None
    build = {"city": lambda: city(scales["city"], years), "sweep": lambda: sweep(scales["sweep"], years, args.points)}
    workloads = [build[t]() for t in targets]
    warm_years = min(years, WARMUP_YEARS)
    warmups = [
        city(w.scale, warm_years) if w.entry == "run" else sweep(w.scale, warm_years, min(args.points, WARMUP_POINTS))
        for w in workloads
    ]
    with tempfile.TemporaryDirectory(prefix="tiersim-compare-", ignore_cleanup_errors=True) as folder:
        scratch = Path(folder)
        for side in (base, head):
            export(side, scratch / side.label.lower())
            side.warmup = measure(side, warmups, scratch, "the warm-up")["process_seconds"]
            log(f"{side.label} {side.short}: exported and warmed up in {side.warmup:.1f} s")
        summaries: dict[str, dict[str, Any]] = {}
        for workload in workloads:
            for repeat in range(args.repeats):
                for side in (base, head):  # alternately, so drift in the machine's speed hits both
                    figures = measure(side, [workload], scratch, f"`{workload.target}`")
                    run = {**figures["workloads"][0], "peak_mib": figures["peak_mib"]}
                    run["process_seconds"], run["compiled"] = figures["process_seconds"], figures["compiled"]
                    side.runs.setdefault(workload.target, []).append(run)
                    log(
                        f"{workload.target} {side.label} {side.short} {repeat + 1}/{args.repeats}: "
                        f"{run['seconds']:.2f} s, {run['peak_mib']:,.0f} MiB"
                    )
            summaries[workload.target] = summarise(base, head, workload)
            report(table(base, head, workload, summaries[workload.target], args.repeats), args.record)
    write_json(
        out,
        {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": host(),
            "repeats": args.repeats,
            **{
                side.label.lower(): {
                    "revision": side.revision,
                    "commit": side.commit,
                    "warmup_seconds": side.warmup,
                    "runs": side.runs,
                }
                for side in (base, head)
            },
            "targets": {
                w.target: {
                    "entry": w.entry,
                    "scale": w.scale,
                    "years": w.years,
                    "scenarios": w.runs,
                    **summaries[w.target],
                }
                for w in workloads
            },
        },
    )
    print(f"Figures written to {out}")


def log(line: str) -> None:
    """Progress on stderr, so the Markdown on stdout stays clean."""
    print(line, file=sys.stderr, flush=True)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2, no usage dump), as `tiersim` reports them."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _terminate(signum: int, frame: object) -> NoReturn:
    """SIGTERM as Ctrl-C, so the running child is killed and the exports are removed on the way out."""
    raise KeyboardInterrupt


def main() -> None:
    """Parse the command line, compare and report; errors are one line."""
    if len(sys.argv) == 3 and sys.argv[1] == CHILD:
        child(Path(sys.argv[2]))
        return
    p = _Parser(prog="compare_commits.py", description=__doc__.splitlines()[0])
    p.add_argument("base", metavar="BASE", help="git revision to compare against")
    p.add_argument("head", metavar="HEAD", nargs="?", default="HEAD", help="git revision measured (default: HEAD)")
    p.add_argument(
        "--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)} (default all)"
    )
    p.add_argument("--repeats", type=int, default=3, help="pairs of runs (BASE then HEAD) per target (default 3)")
    p.add_argument(
        "--scale", type=float, help=f"run.scale of every target (default: city {CITY_SCALE}, sweep {SWEEP_SCALE})"
    )
    p.add_argument("--years", type=int, help=f"simulated years of every target (default {YEARS})")
    p.add_argument(
        "--points", type=int, default=SWEEP_POINTS, help=f"sweep points per sweep run (default {SWEEP_POINTS})"
    )
    p.add_argument(
        "--out", type=Path, help="JSON file of every figure (default results/bench/compare-<base>-<head>.json)"
    )
    p.add_argument("--record", type=Path, help="append the tables to this Markdown file")
    args = p.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not targets or set(targets) - set(TARGETS):
        p.error(f"--targets {args.targets!r}: allowed {', '.join(TARGETS)}, comma-separated")
    for flag, value in (("--repeats", args.repeats), ("--points", args.points)):
        if value < 1:
            p.error(f"{flag} must be at least 1, got {value}")
    signal.signal(signal.SIGTERM, _terminate)
    try:
        compare(args, list(dict.fromkeys(targets)))
    except Failed as exc:
        p.exit(exc.status, f"{p.prog}: error: {exc}\n")
    except KeyboardInterrupt:
        p.exit(130, f"{p.prog}: interrupted; the temporary exports are removed\n")


if __name__ == "__main__":
    main()
