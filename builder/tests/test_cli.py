"""The command line as users and the dag-sync pod run it: python3 -m dag_builder, exit codes 0/1/2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import EXAMPLE_SPECS, REPOSITORY


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dag_builder", *arguments],
        cwd=REPOSITORY / "builder",
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_once_writes_the_examples_and_exits_0(tmp_path: Path) -> None:
    done = run("--source", str(EXAMPLE_SPECS), "--output", str(tmp_path), "--once")
    assert done.returncode == 0, done.stderr
    assert "built marketing (4 tasks), task_specs (11 tasks)" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dag_builder_status.json", "marketing.py", "task_specs.py"]


def test_spec_problems_exit_1_with_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "specs"
    (source / "q").mkdir(parents=True)
    (source / "q" / "a.sql").write_text("select 1;\n")
    (source / "a.yaml").write_text("id: a\nsql: q/a.sql\ndepends_on: [a]\n")
    done = run("--source", str(source), "--output", str(tmp_path / "dags"), "--once")
    assert done.returncode == 1
    assert "a.yaml:3 depends_on: dependency cycle: a -> a" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_source_folder_exits_1(tmp_path: Path) -> None:
    done = run("--source", str(tmp_path / "nowhere"), "--output", str(tmp_path / "dags"), "--once")
    assert done.returncode == 1
    assert f"{tmp_path / 'nowhere'}: the source folder does not exist" in done.stderr


def test_bad_settings_exit_1(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("operator: bash\n")
    done = run("--source", str(EXAMPLE_SPECS), "--output", str(tmp_path / "dags"), "--once", "--config", str(settings))
    assert done.returncode == 1
    assert done.stderr.strip() == f"{settings} operator: must be one of sql, pod"


def test_an_internal_error_exits_2_with_its_stack(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    done = run("--source", str(EXAMPLE_SPECS), "--output", str(blocked), "--once")
    assert done.returncode == 2
    assert "internal error" in done.stderr and "Traceback" in done.stderr


def test_watching_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "dag_builder", "--source", str(EXAMPLE_SPECS), "--output", str(tmp_path)],
        cwd=REPOSITORY / "builder", stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "task_specs.py").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "task_specs.py").exists()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        assert process.stderr is not None
        process.stderr.close()
