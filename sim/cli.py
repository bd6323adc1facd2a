"""The `tiersim` command line: run, compare, sweep, sensitivity, calibrate, evidence, validate, region, params, app.

Every user error (bad scenario, bad flag, out-of-range value, an `--out` that cannot be written)
prints one line to stderr and exits with status 2 before any work — no traceback, and no output
folder is created or touched. A write that fails late (disk full) prints one line and exits with
status 1; earlier results stay as they were.

A command imports what only it needs when it runs — the simulation, and the presentation layer
(`sim.presentation`: plotly, Jinja2, the templates) for the pages it writes — so that every other
command starts without them.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.config import Scenario, ScenarioError, load_scenario, parameter_rows, toml_value
from sim.paths import WriteError, check_output

if TYPE_CHECKING:
    from sim.parameters.region import ProvinceParams

EXIT_USAGE = 2
ENGINE_NAMES = ("array", "reference")
"""`--engine` values: the keys of `sim.runner.ENGINES` (not imported here, to keep start-up fast)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line and exit status 2 (its own default), no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = " ".join(self.prog.split()[1:])  # the subcommand, or none for the top-level parser
        self.exit(EXIT_USAGE, f"tiersim: error: {message} (see 'tiersim {command + ' ' if command else ''}--help')\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="tiersim", description="Agent-based simulator of tiered health care (分级诊疗).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="simulate a scenario (default: the embedded region's baseline)")
    run.add_argument("scenario", nargs="?", type=Path, help="scenario TOML file (default: built-in baseline)")
    _add_run_options(run, seed_help="random seed (default: the scenario's run.seed, 1)", out_default="<scenario name>")
    run.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default="array",
        help="array (default) or reference: one agent per resident, same results, far slower (≤200,000 residents)",
    )

    cmp = sub.add_parser(
        "compare", help="compare scenarios with the first (baseline): replications, paired 95%% intervals"
    )
    cmp.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO", help="scenario TOML files, baseline first")
    cmp.add_argument(
        "--replications", type=int, help="replications per scenario (default 8, or N of --parameter-draws)"
    )
    cmp.add_argument("--workers", type=int, default=1, help="local processes (default 1)")
    _add_draw_options(cmp)
    _add_run_options(cmp, seed_help="seed of replication 0; replication i uses seed + i", out_default="compare-<names>")

    swp = sub.add_parser("sweep", help="run an experiment's design (factorial, Latin hypercube, Sobol, Morris)")
    swp.add_argument("experiment", type=Path, help="experiment TOML file")
    _add_research_options(swp, "sweep-<name>")
    swp.add_argument("--retry-failed", action="store_true", help="run again the runs stored as failed")
    _add_draw_options(swp)

    sens = sub.add_parser("sensitivity", help="Sobol' or Morris indices of an indicator (runs or resumes the sweep)")
    sens.add_argument("experiment", type=Path, help="experiment TOML file with design sobol or morris")
    sens.add_argument(
        "--indicator",
        action="append",
        default=[],
        help="indicator to analyse (repeatable; default primary_visit_share), e.g. medical_revenue_growth_mean",
    )
    _add_research_options(sens, "sensitivity-<name>")

    cal = sub.add_parser(
        "calibrate", help="fit parameters to published statistics: fitted.toml, or (abc-smc) a posterior ensemble"
    )
    cal.add_argument("calibration", type=Path, help="calibration TOML file (experiment keys plus [targets])")
    _add_research_options(cal, "calibrate-<name>")

    evi = sub.add_parser(
        "evidence", help="hold the model against published results: reform effects and levels; writes evidence.html"
    )
    evi.add_argument("--evidence", type=Path, help="evidence table TOML (default: the one shipped, sim/data)")
    evi.add_argument("--split", choices=("fit", "holdout", "all"), default="all", help="figures to score (default all)")
    evi.add_argument("--scale", type=float, default=0.1, help="share of the city simulated, 0 < F <= 1 (default 0.1)")
    evi.add_argument("--years", type=int, default=3, help="simulated years, ≥ 2; reforms start in year 1 (default 3)")
    evi.add_argument("--replications", type=int, help="paired replications, ≥ 2 (default 6, or N of --parameter-draws)")
    evi.add_argument("--seed", type=int, default=1, help="seed of replication 0 (default 1)")
    _add_set_option(evi, "override a value of every design and the counterfactual, e.g. --set choice.cost=-2")
    _add_draw_options(evi)
    evi.add_argument("--out", type=Path, help="output folder (default: results/evidence)")
    _add_where_options(evi)

    val = sub.add_parser("validate", help="check a scenario file; exit 0 if valid, 2 with the field named")
    val.add_argument("scenario", type=Path)
    val.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")

    app = sub.add_parser("app", help="start the planner dashboard in the browser (local, offline)")
    app.add_argument("scenario", nargs="?", type=Path, help="scenario TOML the page starts from (default: baseline)")
    app.add_argument(
        "--region",
        type=Path,
        metavar="FOLDER",
        help="a region in files (docs/region-format.md) the page's runs simulate; default: the scenario's",
    )
    app.add_argument("--port", type=int, default=8050, help="TCP port on this machine (default 8050)")
    app.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1, this machine only; 0.0.0.0 shares it on the network)",
    )
    app.add_argument(
        "--max-runs",
        type=int,
        default=1,
        help="runs simulated at once, of all users together; the others queue (default 1)",
    )
    app.add_argument("--lang", choices=("en", "zh"), default="en", help="page language (default en)")

    reg = sub.add_parser("region", help="a region in files: write the embedded city as files, or check a folder")
    reg_sub = reg.add_subparsers(dest="region_command", required=True, parser_class=_Parser)
    init = reg_sub.add_parser("init", help="write the embedded city (full scale) as region files into a new folder")
    init.add_argument("folder", type=Path, help="folder to write (must not hold a region already)")
    init.add_argument(
        "--province",
        action="store_true",
        help="write a province instead: cities side by side, provincial centres in the capital (sim/province.py)",
    )
    init.add_argument("--cities", type=int, help="with --province: number of cities (default 9, Guizhou's)")
    init.add_argument("--residents", type=int, help="with --province: residents in all (default 38,562,148)")
    _add_set_option(init, "lay out another embedded city, e.g. --set region.rural_counties=4")
    chk = reg_sub.add_parser("check", help="check a region folder: exit 0 with a summary, or 2 with every problem")
    chk.add_argument("folder", type=Path, help="region folder (docs/region-format.md)")

    params = sub.add_parser("params", help="list every scenario parameter with default, unit, range, source")
    params.add_argument("--markdown", action="store_true", help="as a Markdown table")
    params.add_argument("--section", default="", help="only keys starting with this, e.g. insurance or choice")
    return p


def _overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.overrides)
    for flag, key in (("years", "run.years"), ("seed", "run.seed"), ("scale", "run.scale")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"{key}={value}")
    if getattr(args, "region", None) is not None:
        overrides.append(f"region.files={toml_value(str(args.region.absolute()))}")
    return overrides


def _add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text)


def _add_draw_options(parser: argparse.ArgumentParser) -> None:
    """`--parameter-draws` and `--posterior` of `compare`, `sweep` and `evidence` (`sim.posterior`)."""
    parser.add_argument(
        "--parameter-draws",
        type=int,
        metavar="N",
        help="N replications, replication i with seed + i and posterior parameter set i in every scenario",
    )
    parser.add_argument(
        "--posterior", type=Path, metavar="FILE", help="posterior CSV (default: the shipped sim/data/posterior.csv)"
    )


def _add_run_options(parser: argparse.ArgumentParser, *, seed_help: str, out_default: str) -> None:
    """Options shared by `run` and `compare`."""
    parser.add_argument("--years", type=int, help="simulated years (default: the scenario's run.years, 5)")
    parser.add_argument("--seed", type=int, help=seed_help)
    parser.add_argument("--scale", type=float, help="share of the region's residents to simulate, 0 < F <= 1")
    parser.add_argument(
        "--region",
        type=Path,
        metavar="FOLDER",
        help="a region in files (docs/region-format.md); default: the embedded city",
    )
    _add_set_option(parser, "override a scenario value, e.g. --set insurance.resident.outpatient_cap=4000")
    parser.add_argument("--out", type=Path, help=f"output folder (default: results/{out_default})")
    parser.add_argument("--no-report", action="store_true", help="skip report.html")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="language of report.html labels")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table")


def _add_research_options(parser: argparse.ArgumentParser, out_default: str) -> None:
    """Options shared by `sweep`, `sensitivity` and `calibrate`: where results go and where runs execute."""
    parser.add_argument("--out", type=Path, help=f"store folder; run again to resume (default: results/{out_default})")
    _add_set_option(parser, "override a value of the base scenario, e.g. --set run.scale=0.04")
    _add_where_options(parser)


def _add_where_options(parser: argparse.ArgumentParser) -> None:
    """Where runs execute (local processes or Dask), and --quiet."""
    where = parser.add_argument_group("where runs execute (give at most one)")
    where.add_argument("--workers", type=int, help="local processes (default: one per core)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler, tcp://host:port")
    where.add_argument("--dask-local", type=int, metavar="N", help="start a Dask LocalCluster with N workers")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table")


def _executor_choice(args: argparse.Namespace) -> object:
    from sim.executors import ExecutorChoice

    choice = ExecutorChoice(workers=args.workers, scheduler=args.scheduler, dask_local=args.dask_local)
    choice.check()
    return choice


def _out(args: argparse.Namespace, default: str, replaces: str = "") -> Path:
    """The output folder, `--out` or results/<default>, checked before any work is done (`check_output`)."""
    out = args.out or Path("results") / default
    check_output(out, replaces=replaces)
    return out


def _run_sweep(experiment: object, out: Path, args: argparse.Namespace, choice: object) -> object:
    """Run or resume an experiment's sweep with a progress bar; the store's rows."""
    from tqdm import tqdm

    from sim.executors import open_executor
    from sim.sweep import sweep

    e = experiment  # type: ignore[assignment]
    with (
        open_executor(choice) as executor,  # type: ignore[arg-type]
        tqdm(total=e.runs, unit="run", desc=e.name, disable=args.quiet, file=sys.stderr, leave=False) as bar,
    ):
        return sweep(
            e,
            out,
            workers=1,
            executor=executor,
            progress=bar.update,
            retry_failed=getattr(args, "retry_failed", False),
        )


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiment import load_experiment
    from sim.presentation.research_report import write_sweep_outputs
    from sim.sweep import STATUS_FAILED, with_parameter_draws

    experiment = with_parameter_draws(
        load_experiment(args.experiment, args.overrides), args.parameter_draws, args.posterior
    )
    choice = _executor_choice(args)
    out = _out(args, f"sweep-{experiment.name}")
    started = time.perf_counter()
    runs = _run_sweep(experiment, out, args, choice)
    summary = write_sweep_outputs(experiment, runs, out)  # type: ignore[arg-type]
    failed = int((runs.status == STATUS_FAILED).sum())  # type: ignore[attr-defined]
    if not args.quiet:
        print(_sweep_table(experiment, summary, time.perf_counter() - started, failed, out, choice))
    return 1 if failed == experiment.runs else 0


def _sweep_table(experiment: object, summary: object, seconds: float, failed: int, out: Path, choice: object) -> str:
    from sim.sweep import HEADLINE

    e, s = experiment, summary  # type: ignore[assignment]
    lines = [
        f"tiersim sweep: {e.name} — {len(e.points)} points × {len(e.seeds)} replications = {e.runs} runs "
        f"({e.spec.design}) on {choice.describe()}, {seconds:.1f} s{f'; {failed} failed' if failed else ''}",
        *([f"replication i takes posterior parameter set i of {e.posterior}"] if e.parameter_draws else []),
        "mean over replications (first 20 points):",
    ]
    shown = s.head(20)[["point", *e.parameters, *HEADLINE]]
    lines.append(shown.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    lines.append(f"results: {out}/ ({', '.join(sorted(p.name for p in out.iterdir() if not p.name.startswith('.')))})")
    return "\n".join(lines)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from sim.experiment import load_experiment
    from sim.presentation.research_report import write_sensitivity_outputs
    from sim.sensitivity import analyse, check_design
    from sim.sweep import check_indicator

    experiment = load_experiment(args.experiment, args.overrides)
    check_design(experiment)
    indicators = args.indicator or ["primary_visit_share"]
    for indicator in indicators:
        check_indicator(indicator, experiment.scenario(0).run.years)
    choice = _executor_choice(args)
    out = _out(args, f"sensitivity-{experiment.name}")
    started = time.perf_counter()
    runs = _run_sweep(experiment, out, args, choice)
    tables = [analyse(experiment, runs, indicator) for indicator in indicators]  # type: ignore[arg-type]
    write_sensitivity_outputs(experiment, tables, out)
    if not args.quiet:
        print(
            f"tiersim sensitivity: {experiment.name} — {experiment.runs} runs ({experiment.spec.design}) on "
            f"{choice.describe()}, {time.perf_counter() - started:.1f} s"  # type: ignore[attr-defined]
        )
        for table in tables:
            print(table.drop(columns=["method"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(f"results: {out}/ (sensitivity.csv, sensitivity.html, runs.parquet)")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.calibration import load_calibration
    from sim.executors import open_executor
    from sim.presentation.research_report import write_calibration_report

    calibration = load_calibration(args.calibration, args.overrides)
    choice = _executor_choice(args)
    out = _out(args, f"calibrate-{calibration.experiment.name}")
    if calibration.spec.method == "abc-smc":
        return _calibrate_abc(calibration, out, args, choice)
    started = time.perf_counter()
    with (
        open_executor(choice) as executor,  # type: ignore[arg-type]
        tqdm(total=calibration.total_runs, unit="run", disable=args.quiet, file=sys.stderr, leave=False) as bar,
    ):

        def progress(stage: str, n: int) -> None:
            bar.set_description(stage, refresh=False)
            bar.update(n)

        result = calibration.run(out, executor=executor, progress=progress)
    result.write(out)
    write_calibration_report(result, out / "calibration.html")
    if not args.quiet:
        fitted = ", ".join(f"{k} = {v:.4g}" for k, v in result.fitted.items())
        print(
            f"tiersim calibrate: {calibration.experiment.name} — {time.perf_counter() - started:.1f} s on "
            f"{choice.describe()}; fitted {fitted}"
        )  # type: ignore[attr-defined]
        print(result.fit_table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"results: {out}/ (fitted.toml, fit.csv, search.csv, calibration.html, rounds/)")
    return 0


def _calibrate_abc(calibration: object, out: Path, args: argparse.Namespace, choice: object) -> int:
    """`tiersim calibrate` of a file with method = "abc-smc" (`sim.abc`): a posterior ensemble."""
    from tqdm import tqdm

    from sim.abc import run_abc

    c = calibration  # type: ignore[assignment]
    started = time.perf_counter()
    command = " ".join(["tiersim", *sys.argv[1:]]) if sys.argv[1:2] == ["calibrate"] else f"tiersim calibrate {c.path}"
    with tqdm(total=c.spec.generations, unit="generation", disable=args.quiet, file=sys.stderr, leave=False) as bar:

        def progress(done: int, generations: object) -> None:
            bar.n = done
            bar.set_description(f"ε {generations.epsilon.iloc[-1]:.4g}")  # type: ignore[attr-defined]

        result = run_abc(c, out, choice, command=command, progress=progress)  # type: ignore[arg-type]
    result.write(out)
    if not args.quiet:
        print(
            f"tiersim calibrate: {c.experiment.name} (ABC-SMC) — {time.perf_counter() - started:.1f} s on "
            f"{choice.describe()}; {len(result.generations)} generations, stopped: {result.stopped}"  # type: ignore[attr-defined]
        )
        print(result.generations.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(result.summary().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(f"results: {out}/ (posterior.csv, generations.csv, summary.csv, abc.db); run again to continue")
    return 0


def _cmd_evidence(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.evidence import load_evidence, planned_runs, run_evidence
    from sim.executors import open_executor
    from sim.posterior import parameter_draws, posterior_name
    from sim.presentation.research_report import write_evidence_page

    replications = args.replications if args.replications is not None else (args.parameter_draws or 6)
    evidence = load_evidence(args.evidence)
    settings = {
        "split": args.split,
        "scale": args.scale,
        "years": args.years,
        "replications": replications,
        "seed": args.seed,
        "overrides": args.overrides,
    }
    figures, scenarios = planned_runs(evidence, **settings)  # every setting and design checked before any run
    draws = parameter_draws(args.parameter_draws, args.posterior, replications, args.seed)
    choice = _executor_choice(args)
    out = _out(args, "evidence", replaces="evidence.csv")
    started = time.perf_counter()
    total = len(scenarios) * replications
    with (
        open_executor(choice) as executor,  # type: ignore[arg-type]
        tqdm(total=total, unit="run", desc="evidence", disable=args.quiet, file=sys.stderr, leave=False) as bar,
    ):
        result = run_evidence(
            evidence,
            **settings,
            executor=executor,
            progress=bar.update,
            parameter_draws=draws,
            posterior=posterior_name(args.posterior) if draws is not None else "",
        )
    result.write(out)
    write_evidence_page(result, out)
    if not args.quiet:
        print(
            f"tiersim evidence: {len(figures)} figures, {len(scenarios) - 1} reform designs × {replications} "
            f"paired replications at scale {args.scale}, {time.perf_counter() - started:.1f} s on {choice.describe()}"  # type: ignore[attr-defined]
        )
        print(result.headline())
        print(f"results: {out}/ (evidence.csv, score.csv, settings.json, evidence.html)")
    return 1 if len(result.failures) == total else 0


def _scenario_from(args: argparse.Namespace) -> Scenario:
    return _with_region_checked(load_scenario(args.scenario, _overrides(args)))


def _with_region_checked(scenario: Scenario) -> Scenario:
    """The scenario, once the region files it names are found valid (`RegionError`: a line per problem, exit 2)."""
    if scenario.region.files:
        from sim import regionfiles

        regionfiles.read(scenario.region.files, scenario.region)
    return scenario


def _cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.parameters.illness import DAYS_PER_YEAR
    from sim.presentation.report import write_run
    from sim.runner import run

    scenario = _scenario_from(args)
    out = _out(args, scenario.name, replaces="summary.json")
    total = scenario.run.warmup_days + scenario.run.years * DAYS_PER_YEAR
    started = time.perf_counter()
    with tqdm(
        total=total, unit="day", desc=f"{scenario.name}", delay=2.0, disable=args.quiet, file=sys.stderr, leave=False
    ) as bar:
        results = run(scenario, progress=bar, engine=args.engine)
    if args.no_report:
        results.write(out)
    else:
        write_run(results, out, lang=args.lang)
    if not args.quiet:
        print(_table(results, time.perf_counter() - started, out))
    return 0


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "%":
        return f"{100 * value:5.1f}%"
    if kind == "¥m":
        return f"{round(value / 1e6, 1) + 0.0:8.1f}"  # + 0.0: a rounded −0.0 prints as 0.0
    return f"{value:7.2f}"


def _goal(name: str) -> str:
    from sim.metrics import TARGETS

    spec = TARGETS[name]
    return f"{'≥' if spec['direction'] == '>=' else '≤'}{100 * float(spec['value']):.0f}%"  # type: ignore[arg-type]


def _table(results: object, seconds: float, out: Path) -> str:
    s = results.summary  # type: ignore[attr-defined]
    years = s["calendar_years"]
    rows = [
        (f"primary-care share of visits (target {_goal('primary_visit_share')})", s["primary_visit_share"], "%"),
        (f"hospital medical revenue growth (cap {_goal('medical_revenue_growth')})", s["medical_revenue_growth"], "%"),
        ("out-of-pocket share of bills", s["oop_share"], "%"),
        (f"in-county admissions (target {_goal('in_county_rate')})", s["in_county_rate"], "%"),
        ("bed occupancy, tertiary", s["bed_occupancy"]["tertiary"], "%"),
        ("bed occupancy, secondary", s["bed_occupancy"]["secondary"], "%"),
        ("bed occupancy, health centres", s["bed_occupancy"]["health_centre"], "%"),
        ("insurance fund balance, ¥ million", s["fund_balance"], "¥m"),
        ("referrals up", s["referrals_up"], "n"),
        ("unmet episodes", s["unmet_episodes"], "n"),
        ("episodes cared for at home", s["self_care_episodes"], "n"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [
        f"tiersim: {s['scenario']} — {s['residents']:,} residents, {s['facilities']} facilities, "
        f"{s['beds']:,} beds (scale {s['scale']:g}), seed {s['seed']}, {seconds:.1f} s",
        " " * width + "".join(f" {y:>9}" for y in years),
    ]
    for label, values, kind in rows:  # a space between columns: counts of a full city reach 9 characters
        cells = "".join(f" {_fmt(v, kind) if kind != 'n' else f'{v:,.0f}':>9}" for v in values)
        lines.append(f"{label:<{width}}{cells}")
    written = sorted(p.name for p in out.iterdir())
    lines.append(f"results: {out}/ ({', '.join(written)})")
    return "\n".join(lines)


def _cmd_compare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from sim.comparison import check_comparable, compare
    from sim.posterior import parameter_draws, posterior_name
    from sim.presentation.comparison_report import write_comparison

    if args.workers < 1:
        raise ScenarioError(f"--workers = {args.workers} is invalid: allowed ≥ 1")
    scenarios = [_with_region_checked(load_scenario(path, _overrides(args))) for path in args.scenarios]
    replications = args.replications if args.replications is not None else (args.parameter_draws or 8)
    check_comparable(scenarios, replications)
    seed = scenarios[0].run.seed if args.seed is None else args.seed
    draws = parameter_draws(args.parameter_draws, args.posterior, replications, seed)
    out = _out(args, "compare-" + "-".join(s.name for s in scenarios), replaces="comparison.csv")
    started = time.perf_counter()
    total = len(scenarios) * replications
    with tqdm(total=total, unit="run", desc="compare", disable=args.quiet, file=sys.stderr, leave=False) as bar:
        comparison = compare(
            scenarios,
            replications=replications,
            seed=seed,
            workers=args.workers,
            progress=bar.update,
            parameter_draws=draws,
            posterior=posterior_name(args.posterior),
        )
    if args.no_report:
        comparison.write(out)
    else:
        write_comparison(comparison, out, lang=args.lang)
    if not args.quiet:
        print(_comparison_table(comparison, time.perf_counter() - started, out))
    return 1 if len(comparison.failures) == total else 0


def _comparison_table(comparison: object, seconds: float, out: Path) -> str:
    c = comparison  # type: ignore[assignment]
    s = c.summary
    final = s.year.max()
    rows = [
        ("primary_visit_share", "primary-care share", "%"),
        ("medical_revenue_growth", "hospital revenue growth", "%"),
        ("oop_share", "out-of-pocket share", "%"),
        ("in_county_rate", "in-county admissions", "%"),
        ("bed_occupancy_tertiary", "tertiary bed occupancy", "%"),
        ("lead_referral_wait_days", "referred patients' bed wait, days", "d"),
        ("fund_balance", "fund balance, ¥ million", "m"),
    ]

    def fmt(value: float, kind: str) -> str:
        if not np.isfinite(value):
            return "—"
        return {"%": f"{100 * value:+.1f}pt", "d": f"{value:+.2f}", "m": f"{value / 1e6:+.1f}"}[kind]

    lines = [
        f"tiersim compare: {len(c.scenarios)} scenarios × {len(c.seeds)} replications (seeds {c.seeds[0]}–"
        f"{c.seeds[-1]}), {seconds:.1f} s; final year, difference from '{c.baseline}' [95% interval]",
    ]
    if c.parameter_draws is not None:
        lines.append(
            f"intervals include parameter uncertainty: replication i takes posterior parameter set i of "
            f"{c.posterior} ({len(c.parameter_draws)} draws), the same in every scenario"
        )
    for scenario in [sc.name for sc in c.scenarios[1:]]:
        lines.append(f"  {scenario}")
        for indicator, label, kind in rows:
            r = s[(s.scenario == scenario) & (s.indicator == indicator) & (s.year == final)]
            if r.empty:
                continue
            r = r.iloc[0]
            interval = f"[{fmt(r.diff_lo, kind)}, {fmt(r.diff_hi, kind)}]"
            lines.append(f"    {label:<36}{fmt(r['diff'], kind):>10} {interval}")
    targets = c.targets
    if not targets.empty:
        last = targets[targets.year == targets.year.max()]
        lines.append(f"targets in {int(last.calendar_year.iloc[0])} (met ✓ / not ✗, on replication means):")
        for scenario in [sc.name for sc in c.scenarios]:
            marks = [f"{row.target} {'✓' if row.met else '✗'}" for row in last[last.scenario == scenario].itertuples()]
            lines.append(f"  {scenario:<22} " + ", ".join(marks))
    if len(c.failures):
        lines.append(f"  {len(c.failures)} run(s) failed; see failures.csv")
    lines.append(f"results: {out}/ ({', '.join(sorted(p.name for p in out.iterdir()))})")
    return "\n".join(lines)


def _province_params(args: argparse.Namespace) -> ProvinceParams:
    """The province of `region init --province`, from --cities and --residents (one-line error if out of range)."""
    from pydantic import ValidationError

    from sim.config import describe_error
    from sim.parameters.region import ProvinceParams

    given = {key: value for key in ("cities", "residents") if (value := getattr(args, key)) is not None}
    try:
        return ProvinceParams(**given)
    except ValidationError as exc:
        raise ScenarioError(describe_error(exc, "region init --province", ProvinceParams)) from None


def _cmd_region(args: argparse.Namespace) -> int:
    from sim import regionfiles

    if args.region_command == "check":
        problems, summary = regionfiles.check(args.folder)
        if problems:
            raise regionfiles.RegionError(problems)
        print(summary)
        return 0
    if not args.province and (args.cities is not None or args.residents is not None):
        raise ScenarioError("region init: --cities and --residents are options of --province; add --province")
    scenario = load_scenario(None, args.overrides)
    folder = args.folder
    if folder.exists() and not folder.is_dir():
        raise ScenarioError(f"{folder}: is a file; give a new or empty folder")
    held = [name for name in (*regionfiles.REQUIRED, *regionfiles.OPTIONAL) if (folder / name).exists()]
    if held:
        raise ScenarioError(f"{folder}: already holds {', '.join(held)}; give a new or empty folder")
    try:
        if args.province:
            regionfiles.write_province(_province_params(args), scenario.region, folder)
        else:
            regionfiles.write_embedded(scenario.region, folder)
    except OSError as exc:
        raise ScenarioError(f"{folder}: cannot write: {exc.strerror or exc}") from None
    _, summary = regionfiles.check(folder, scenario.region)
    print(f"wrote {summary.removeprefix(f'{folder}: valid ')}")
    print(f"run it: tiersim run --region {folder}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    scenario = _with_region_checked(load_scenario(args.scenario, args.overrides))  # the region it names is part of it
    print(f"{args.scenario}: valid scenario '{scenario.name}'")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    import socket

    from sim.config import read_toml, validate
    from sim.presentation.app.server import serve

    base = read_toml(args.scenario) if args.scenario is not None else {}
    region = args.region.absolute() if args.region is not None else None
    if region is not None:
        base = {**base, "region": {**base.get("region", {}), "files": str(region)}}
    # A bad file or region stops here, before serving.
    _with_region_checked(validate(base, str(args.scenario or "the built-in baseline")))
    if not 1 <= args.port <= 65535:
        raise ScenarioError(f"--port = {args.port} is invalid: allowed 1–65535")
    cores = os.cpu_count() or 1
    if not 1 <= args.max_runs <= cores:
        raise ScenarioError(f"--max-runs = {args.max_runs} is invalid: allowed 1–{cores} (this machine's cores)")
    try:
        family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]
    except (OSError, UnicodeError):
        raise ScenarioError(f"--host {args.host!r}: not an address; e.g. 127.0.0.1 or 0.0.0.0") from None
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: a closed port is free
        try:
            probe.bind((args.host, args.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ScenarioError(f"--port {args.port}: already in use; choose another port") from None
            raise ScenarioError(
                f"--host {args.host!r}: cannot listen there ({exc.strerror}); e.g. 127.0.0.1 or 0.0.0.0"
            ) from None
    serve(args.scenario, region=region, port=args.port, lang=args.lang, host=args.host, max_runs=args.max_runs)
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    rows = [r for r in parameter_rows() if r["key"].startswith(args.section)]
    if not rows:
        raise ScenarioError(f"--section {args.section!r}: no parameter key starts with it")
    if args.markdown:
        print("| key | default | unit | allowed | source | meaning |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| `{r['key']}` | {r['default']} | {r['unit']} | {r['range']} | {r['source']} | {r['meaning']} |")
    else:
        for r in rows:
            print(f"{r['key']} = {r['default']}  [{r['unit']}; {r['range']}]  {r['meaning']}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _left(command: str) -> str:
    """What a command stopped part way leaves behind."""
    if command in ("sweep", "sensitivity", "calibrate"):
        return "finished runs are stored; run the same command to resume"
    return "no results written; earlier results there are unchanged"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tiersim` command."""
    args = _parser().parse_args(argv)
    # SIGTERM (a job scheduler, `kill`) stops like Ctrl-C: stored runs stay, workers are shut down.
    signal.signal(signal.SIGTERM, _interrupt)
    commands = {
        "run": _cmd_run,
        "compare": _cmd_compare,
        "sweep": _cmd_sweep,
        "sensitivity": _cmd_sensitivity,
        "calibrate": _cmd_calibrate,
        "evidence": _cmd_evidence,
        "validate": _cmd_validate,
        "region": _cmd_region,
        "params": _cmd_params,
        "app": _cmd_app,
    }
    try:
        return commands[args.command](args)
    except ScenarioError as exc:
        for line in str(exc).splitlines():  # a region's problems: one line each
            print(f"tiersim: error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return 0
    except WriteError as exc:  # found only when writing (disk full, folder removed): not the user's input
        print(f"tiersim: error: {exc}; {_left(args.command)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tiersim: interrupted; {_left(args.command)}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
