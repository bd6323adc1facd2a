"""Where results go: an output folder is checked before any work, and a write that fails late is one line.

Every command that writes calls `check_output` on its `--out` before it loads or simulates
anything expensive, and creates nothing while checking, so a refused command leaves no folder
behind. Writes themselves go through `writing` (`sim.runner.atomic_folder`, `atomic_file`, the run
store), which turns a failure found only then — a full disk, a folder removed mid-run — into a
one-line `WriteError`; the atomic writers keep earlier results as they were.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.config import ScenarioError


class WriteError(OSError):
    """Writing results failed after the work was done (disk full, folder removed); the message is one line."""


def _can_write_in(folder: Path) -> str:
    """Why no file can be created in `folder` ("" if one can): a file is made and removed to find out.

    Permission bits do not tell (root writes anyway, a read-only mount or /proc refuses everyone).
    """
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tiersim-probe-"):
            return ""
    except OSError as exc:
        return exc.strerror or str(exc)


def check_output(out: Path, flag: str = "--out", *, folder: bool = True, replaces: str = "") -> None:
    """Check that `out` can be made, filled or replaced as a folder (or file) of results, creating nothing.

    Args:
        out: The output path as the user gave it.
        flag: The option that named it, for the message.
        folder: Whether `out` is a folder (else a file).
        replaces: For a folder the results replace whole: a file every such folder holds. An
            existing folder with other contents and without it is refused, so that results never
            replace a folder of something else.

    Raises:
        ScenarioError: One line naming `flag` and the reason: `out` names nothing of its own
            ("." or ".."), exists and is not a folder (or is one, for a file), is a folder of
            something other than results it may replace, has a file where a parent folder should
            be, or lies where nothing can be written (its nearest existing folder refuses a new file).
    """
    what = "folder" if folder else "file"

    def refused(reason: str) -> ScenarioError:
        return ScenarioError(f"{flag} {out}: {reason}; give a {what} that can be written")

    if out.name in ("", ".", ".."):  # results replace what they name, so it needs a name of its own
        raise refused(f"names no {what} of its own")
    if os.path.lexists(out) and out.is_dir() != folder:
        raise refused(f"exists and is not a {what}")
    if replaces and out.is_dir() and any(out.iterdir()) and not (out / replaces).is_file():
        raise ScenarioError(
            f"{flag} {out}: a folder of other files (no {replaces}), which results would replace; "
            "give a new folder or one of earlier results"
        )
    nearest = next(p for p in out.parents if os.path.lexists(p))  # "." or "/" at the latest
    if not nearest.is_dir():
        raise refused(f"{nearest} is {'a file' if nearest.is_file() else 'not a folder'}")
    # New entries go into the nearest existing parent; a resumed store also writes inside `out`.
    for place in (nearest, out) if out.is_dir() else (nearest,):
        if reason := _can_write_in(place):
            raise refused(f"cannot write in {place} ({reason})")


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an `OSError` of the block into a one-line `WriteError` naming `path`."""
    try:
        yield
    except WriteError:
        raise
    except OSError as exc:
        reason = " ".join((exc.strerror or str(exc) or type(exc).__name__).split())
        raise WriteError(f"cannot write {path}: {reason}") from exc
