"""A missing Airflow fails the Airflow tests, unless a local run explicitly allows skipping them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import REPOSITORY, WITHOUT_AIRFLOW

# Runs one Airflow test in a fresh interpreter in which `import airflow` fails.
HIDE_AIRFLOW = (
    "import sys; sys.modules['airflow'] = None; import pytest; "
    "sys.exit(pytest.main(['-q', 'tests/test_airflow.py::test_the_examples_load_with_zero_import_errors']))"
)


@pytest.mark.parametrize(("allow_skip", "exit_code", "expected"), [(None, 1, "Airflow is not importable"), ("1", 0, "1 skipped")])
def test_without_airflow(allow_skip: str | None, exit_code: int, expected: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k != WITHOUT_AIRFLOW}
    if allow_skip:
        environment[WITHOUT_AIRFLOW] = allow_skip
    done = subprocess.run([sys.executable, "-c", HIDE_AIRFLOW], cwd=REPOSITORY / "builder", env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == exit_code, done.stdout + done.stderr
    assert expected in done.stdout
