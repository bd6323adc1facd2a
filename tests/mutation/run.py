"""Mutation testing of the money with cosmic-ray: plant small bugs one at a time, see which the tests miss.

    python -m pip install -e ".[mutation]"
    python tests/mutation/run.py                  # everything in scope: hours on 2 cores (see CONTRIBUTING.md)
    python tests/mutation/run.py --resume         # go on with a session that was stopped
    python tests/mutation/run.py --retest-survivors   # after new tests: only the mutants that survived
    python tests/mutation/run.py --report         # the last session's report again

The scope (modules, functions, operators) and the test command are in `cosmic-ray.toml` beside this
file. Each mutant is one small change of one function — `+` for `-`, `<` for `<=`, a number
changed, a condition negated — and the fast money tests run against it; a mutant the tests do not
fail "survives". Every survivor must be killed by a new test or explained in `equivalent.toml`
(it changes nothing the model can reach, e.g. a comparison whose two sides are never equal); an
entry names the module, the operator, the original line and the mutated line, all stripped.
Workers run in copies of the repository (mutations are made on disk), with the kernels compiled: a
mutant of a kernel module is compiled afresh (the kernel cache is keyed by a digest of their source).

Writes `results/mutation/session.sqlite` (cosmic-ray's work database) and `report.md` (score,
survivors, each with its diff and, if listed, the reason it is equivalent); exits 1 while a
survivor is unexplained.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from contextlib import ExitStack
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFIG = HERE / "cosmic-ray.toml"
EQUIVALENT = HERE / "equivalent.toml"
OUT = ROOT / "results" / "mutation"
COPY_IGNORE = shutil.ignore_patterns(".git", "results", "__pycache__", ".pytest_cache", "*.egg-info", "artifacts")


@cache
def _annotations(module: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations are: never evaluated (`from __future__ import annotations`), so not mutated."""
    spans = []
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        annotation = getattr(node, "annotation", None) if isinstance(node, ast.arg | ast.AnnAssign) else None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotation = node.returns
        if annotation is not None:
            spans.append(
                ((annotation.lineno, annotation.col_offset), (annotation.end_lineno, annotation.end_col_offset))
            )
    return spans


def _in_scope(scope: dict, module: str, function: str | None, operator: str, start: tuple[int, int]) -> bool:
    """Whether a mutation is one `cosmic-ray.toml`'s scope asks for."""
    wanted = scope.get(module)
    if wanted is None or function is None or function in scope["exclude"]:
        return False
    if any(begin <= tuple(start) < end for begin, end in _annotations(ROOT / module)):
        return False
    if wanted == "*":
        # Functions only: class bodies of parameter tables hold data, not rules.
        if function[0].isupper():
            return False
    elif function not in wanted:
        return False
    return any(re.search(pattern, operator) for pattern in scope["operators"])


def _session_config(ports: list[int]) -> Path:
    """cosmic-ray's config: `cosmic-ray.toml` with the workers' addresses."""
    text = CONFIG.read_text(encoding="utf-8")
    urls = ", ".join(f"'http://127.0.0.1:{port}'" for port in ports)
    config = OUT / "session.toml"
    config.write_text(f"{text}\n[cosmic-ray.distributor.http]\nworker-urls = [{urls}]\n", encoding="utf-8")
    return config


def _init(session: Path, scope: dict) -> None:
    """A new session: every mutation of the modules, those out of scope marked skipped."""
    session.unlink(missing_ok=True)
    subprocess.run(["cosmic-ray", "init", str(_session_config([0])), str(session)], cwd=ROOT, check=True)
    _apply_scope(session, scope)


def _apply_scope(session: Path, scope: dict) -> None:
    """Mark the mutations out of scope skipped (again, after the scope changed)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        skipped = [
            item.job_id
            for item in db.work_items
            if not all(
                _in_scope(
                    scope, str(m.module_path), m.definition_name, m.operator_name.removeprefix("core/"), m.start_pos
                )
                for m in item.mutations
            )
        ]
        db.set_multiple_results(skipped, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        print(f"{db.num_work_items - len(skipped)} mutants in scope ({len(skipped)} skipped)", flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _execute(session: Path, workers: int) -> None:
    """Run the pending mutants on `workers` copies of the repository."""
    ports = [_free_port() for _ in range(workers)]
    config = _session_config(ports)
    env = dict(os.environ)
    with ExitStack() as stack:
        for port in ports:
            copy = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tiersim-mutant-"))) / "repo"
            shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
            worker = subprocess.Popen(
                ["cosmic-ray", "http-worker", "--port", str(port)],
                cwd=copy,
                env={**env, "PYTHONPATH": str(copy)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            stack.callback(worker.wait)
            stack.callback(worker.terminate)
        for port in ports:
            while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
                time.sleep(0.2)
        subprocess.run(["cosmic-ray", "exec", str(config), str(session)], cwd=ROOT, check=True)


def _retest_survivors(session: Path) -> None:
    """Forget the survivors' results, so that `exec` runs them again."""
    with sqlite3.connect(session) as db:
        n = db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount
    print(f"{n} survivors to test again", flush=True)


def _changed_line(diff: str, sign: str) -> str:
    """The line a mutant's diff takes out (`sign` "-") or puts in its place ("+"), stripped."""
    rows = [row[1:].strip() for row in diff.splitlines() if row.startswith(sign) and not row.startswith(sign * 3)]
    return rows[0] if rows else ""


def report(session: Path) -> int:
    """Write report.md from the session; the number of survivors not explained in equivalent.toml."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    explained = tomllib.loads(EQUIVALENT.read_text(encoding="utf-8"))["equivalent"]
    counts: dict[str, int] = {}
    survivors = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = len(db.pending_work_items)
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            outcome = str(result.test_outcome or result.worker_outcome)
            counts[outcome] = counts.get(outcome, 0) + 1
            if result.test_outcome == TestOutcome.SURVIVED:
                m = item.mutations[0]
                module, operator = str(m.module_path), m.operator_name.removeprefix("core/")
                line, mutant = (_changed_line(result.diff or "", sign) for sign in "-+")
                reason = next(
                    (
                        e["reason"]
                        for e in explained
                        if (e["module"], e["operator"], e["line"], e["mutant"]) == (module, operator, line, mutant)
                    ),
                    None,
                )
                survivors.append((module, m.start_pos[0], m.definition_name, operator, line, result.diff, reason))
    tested = sum(counts.values())
    killed = counts.get(str(TestOutcome.KILLED), 0) + counts.get(str(TestOutcome.INCOMPETENT), 0)
    unexplained = [s for s in survivors if s[-1] is None]
    lines = [
        "# Mutation testing of the money",
        "",
        f"{tested} mutants tested, {pending} pending: {killed} killed ({killed / max(tested, 1):.1%}), "
        f"{len(survivors)} survived — {len(survivors) - len(unexplained)} explained as equivalent, "
        f"{len(unexplained)} not. Outcomes: {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}.",
        "",
    ]
    for module, row, function, operator, line, diff, reason in sorted(survivors):
        lines += [f"## {module}:{row} `{function}` — {operator}", "", f"    {line}", ""]
        lines += [f"Equivalent: {reason}" if reason else "**Not explained: kill it with a test.**", ""]
        lines += ["```diff", (diff or "").strip(), "```", ""]
    (OUT / "report.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines[:3]), f"\nreport: {OUT / 'report.md'}", sep="")
    return len(unexplained)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so the workers are stopped and their copies removed


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="copies run in parallel")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--resume", action="store_true", help="run what the session has not yet run")
    what.add_argument("--retest-survivors", action="store_true", help="run the survivors again (after new tests)")
    what.add_argument("--report", action="store_true", help="only write the report of the session")
    args = parser.parse_args()
    if shutil.which("cosmic-ray") is None:
        sys.exit('tiersim mutation: cosmic-ray is not installed; python -m pip install -e ".[mutation]"')
    OUT.mkdir(parents=True, exist_ok=True)
    session = OUT / "session.sqlite"
    scope = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["cosmic-ray"]["scope"]
    if not args.report:
        if args.retest_survivors:
            _retest_survivors(session)
        elif not args.resume:
            _init(session, scope)
        _execute(session, args.workers)
    _apply_scope(session, scope)
    return 1 if report(session) else 0


if __name__ == "__main__":
    sys.exit(main())
