"""Which code produced a result: the git commit when running from a checkout, else the version."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def code_version() -> str:
    """The checkout's short commit ("+ uncommitted changes" if sim/ or scenarios/ differ from it).

    Outside a git checkout (an installed package) the package version, e.g. "tiersim 0.1.0".
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "sim", "scenarios"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        from sim import __version__

        return f"tiersim {__version__}"
    return f"{commit} + uncommitted changes" if dirty else commit
