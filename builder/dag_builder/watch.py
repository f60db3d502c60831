"""
The long-running mode: poll the synced folder and rebuild only when an input changed. git-sync swaps
a symlink to a new checkout, so the fingerprint includes where the source folder really points.
"""
from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Callable

from .build import BuildResult, build
from .settings import Settings

Fingerprint = tuple[str, tuple[tuple[str, int, int], ...]]


def fingerprint(source: Path) -> Fingerprint:
    """Where `source` points and the path, size and modification time of every visible file below it."""
    entries: list[tuple[str, int, int]] = []
    for directory, folders, files in os.walk(source):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = os.path.join(directory, name)
            try:
                stat = os.stat(path)
            except FileNotFoundError:
                continue
            entries.append((os.path.relpath(path, source), stat.st_size, stat.st_mtime_ns))
    return os.path.realpath(source), tuple(entries)


def watch(
    source: Path,
    output: Path,
    settings: Settings,
    log: Callable[[str], None],
    sleep: Callable[[float], None],
    keep_going: Callable[[], bool],
) -> int:
    """Builds whenever the inputs change until `keep_going()` is false; returns how many builds ran."""
    last: Fingerprint | None = None
    builds = 0
    while keep_going():
        current = fingerprint(source)
        if current != last:
            builds += 1
            try:
                report(build(source, output, settings), log)
                last = current
            except Exception:  # noqa: BLE001 - the watcher must outlive one failed build
                log("internal error while building; retrying at the next poll:\n" + traceback.format_exc())
        if keep_going():
            sleep(settings.poll_seconds)
    return builds


def report(result: BuildResult, log: Callable[[str], None]) -> None:
    if not result.ok:
        log(f"{len(result.problems)} problem(s) in the task specs; the DAG files of the last good build stay in place:")
        for problem in result.problems:
            log(f"  {problem}")
        return
    written = result.written
    summary = ", ".join(f"{dag} ({count} tasks)" for dag, count in sorted(result.dags.items())) or "no DAGs"
    changes = f"{len(written.written)} written, {len(written.unchanged)} unchanged, {len(written.removed)} removed" if written else ""
    log(f"built {summary}: {changes}")
