"""The benchmark runs end to end on a small spec set and prints its table (the figures are bench.py's job)."""
from __future__ import annotations

import subprocess
import sys

from .conftest import REPOSITORY


def test_the_benchmark_runs_and_prints_its_table(dagbag_class: type) -> None:
    done = subprocess.run(
        [sys.executable, str(REPOSITORY / "builder" / "bench.py"), "--tasks", "20", "--rounds", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| measure | median | goal | result |" in done.stdout
    assert "| build 20 specs, in process |" in done.stdout
    assert "DagBag parse, generated DAG file" in done.stdout
