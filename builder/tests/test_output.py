"""Deterministic bytes, atomic replacement, stale files removed, foreign files left alone."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

from dag_builder.build import build, render_sources
from dag_builder.settings import DEFAULTS, settings_from
from dag_builder.write import STATUS_FILE

from .conftest import EXAMPLE_SPECS, spec_files


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_specs_same_bytes_whatever_the_file_order_or_location(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    build(EXAMPLE_SPECS, first, DEFAULTS)
    # The same specs elsewhere, written in reverse order (a different directory listing order on most file systems).
    copy = tmp_path / "copy"
    for path in sorted(EXAMPLE_SPECS.rglob("*"), reverse=True):
        target = copy / path.relative_to(EXAMPLE_SPECS)
        if path.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    build(copy, second, DEFAULTS)
    assert _files(first) == _files(second)


def test_a_rebuild_without_changes_touches_nothing(tmp_path: Path) -> None:
    build(EXAMPLE_SPECS, tmp_path, DEFAULTS)
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    result = build(EXAMPLE_SPECS, tmp_path, DEFAULTS)
    assert result.written is not None and result.written.written == [] and len(result.written.unchanged) == 2
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps


def test_stale_dags_are_removed_and_foreign_files_kept(tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    source = tree({**spec_files("a", []), **spec_files("b", [], dag="other")})
    build(source, output, DEFAULTS)
    (output / "hand_written.py").write_text("# a DAG someone else put here\n")
    (source / "b.yaml").unlink()
    result = build(source, output, DEFAULTS)
    assert result.written is not None and result.written.removed == ["other.py"]
    assert sorted(p.name for p in output.iterdir()) == [STATUS_FILE, "hand_written.py", "task_specs.py"]


def test_a_run_that_fails_while_writing_leaves_every_file_whole(
    tree: Callable[[dict[str, str]], Path], output: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tree({**spec_files("a", []), **spec_files("x", [], dag="other")})
    build(source, output, DEFAULTS)
    before = _files(output)
    changed = settings_from({"retries": 7}, "test")
    expected_after = render_sources(source, changed)[0]
    real_replace = os.replace
    calls: list[str] = []

    def replace_then_fail(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_fail)
    with pytest.raises(OSError):
        build(source, output, changed)
    after = _files(output)
    assert sorted(after) == sorted(before), "no temporary file is left behind"
    for name, content in after.items():
        assert content in (before[name], expected_after.get(name, "").encode()), f"{name} is neither the old nor the new file"
    # Files are replaced in name order: the first is new, the second (whose rename failed) is still the old one.
    assert after["other.py"] == expected_after["other.py"].encode() != before["other.py"]
    assert after["task_specs.py"] == before["task_specs.py"]
    monkeypatch.setattr(os, "replace", real_replace)
    assert build(source, output, changed).ok
    assert {n: c for n, c in _files(output).items() if n.endswith(".py")} == {n: t.encode() for n, t in expected_after.items()}


def test_leftover_temporary_files_of_a_killed_run_are_cleaned(tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    output.mkdir()
    (output / ".task_specs.py.4242.dag_builder.tmp").write_text("half a fi")
    build(tree(spec_files("a", [])), output, DEFAULTS)
    assert sorted(p.name for p in output.iterdir()) == [STATUS_FILE, "task_specs.py"]


def test_a_byte_order_mark_is_not_part_of_the_query_or_the_spec(tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    source = tree({"a.yaml": "\ufeffid: a\nsql: q/a.sql\n", "q/a.sql": "\ufeffselect 1;\n"})
    files, _, problems = render_sources(source, DEFAULTS)
    assert problems == []
    (text,) = files.values()
    assert "\ufeff" not in text and "select 1;" in text
