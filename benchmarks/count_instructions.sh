#!/usr/bin/env bash
# Instruction counts of two commits for one small run, under callgrind (repeatable where seconds are not).
#
#   bash benchmarks/count_instructions.sh BASE [HEAD]     # HEAD defaults to the checked-out commit
#
# Each commit is checked out in a temporary worktree. Its kernels are compiled natively for a generic
# CPU (NUMBA_CPU_NAME=generic): numba keys its cache by CPU, and valgrind presents another one, so
# without it the count would include a compile. Then one process runs the default scenario at
# 100,000 residents (scale 0.04) for 1 year under `valgrind --tool=callgrind`; the script prints
# both counts and HEAD / BASE. Needs valgrind; takes a few minutes a commit.
set -euo pipefail
base=$(git rev-parse --short "${1:?give BASE}")
head=$(git rev-parse --short "${2:-HEAD}")
python=$(python -c "import sys; print(sys.executable)")  # the interpreter itself, not a shim valgrind would count
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" 2>/dev/null; git worktree remove --force "$work/head" 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/small.py" <<'PY'
import sim
sim.run(sim.load_scenario(None, ["run.scale=0.04", "run.years=1"]))
PY
export NUMBA_CPU_NAME=generic
declare -A count
for side in base head; do
  commit=${!side}
  git worktree add --quiet --detach "$work/$side" "$commit"
  PYTHONPATH="$work/$side" "$python" "$work/small.py"  # compiles into that tree's cache
  count[$side]=$(PYTHONPATH="$work/$side" valgrind --tool=callgrind --callgrind-out-file="$work/$side.out" \
    "$python" "$work/small.py" 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d ,)
  echo "$side $commit: ${count[$side]} instructions"
done
python -c "print(f'HEAD / BASE = {${count[head]} / ${count[base]}:.4f}')"
