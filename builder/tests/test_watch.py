"""The watch loop rebuilds when an input changes, and only then."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from dag_builder.settings import settings_from
from dag_builder.watch import fingerprint, watch

from .conftest import spec_files


def test_rebuilds_only_when_inputs_change_and_survives_a_bad_spec(tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    source = tree(spec_files("a", []))
    settings = settings_from({"pollSeconds": 5}, "test")
    log: list[str] = []
    polls = iter(range(100))
    edits: dict[int, Callable[[], object]] = {
        2: lambda: (source / "b.yaml").write_text("id: b\nsql: q/a.sql\ndepends_on: [a]\n"),
        4: lambda: (source / "b.yaml").write_text("id: b\nsql: q/a.sql\ndepends_on: [nope]\n"),
        6: lambda: (source / "b.yaml").unlink(),
    }
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        poll = len(sleeps)
        if poll in edits:
            edits[poll]()

    builds = watch(source, output, settings, log=log.append, sleep=sleep, keep_going=lambda: next(polls) < 16)
    assert builds == 4
    assert set(sleeps) == {5}
    assert [line.split(":")[0] for line in log if not line.startswith("  ")] == [
        "built task_specs (1 tasks)",
        "built task_specs (2 tasks)",
        "1 problem(s) in the task specs; the DAG files of the last good build stay in place",
        "built task_specs (1 tasks)",
    ]


def test_the_fingerprint_follows_a_swapped_symlink(tmp_path: Path) -> None:
    for name in ("rev1", "rev2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.yaml").write_text("id: a\n")
    link = tmp_path / "repo"
    link.symlink_to(tmp_path / "rev1")
    before = fingerprint(link)
    link.unlink()
    link.symlink_to(tmp_path / "rev2")
    assert fingerprint(link) != before
    os.utime(tmp_path / "rev2" / "a.yaml", ns=(1, 1))
    assert fingerprint(link) != fingerprint(tmp_path / "rev1")
