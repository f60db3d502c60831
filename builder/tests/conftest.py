"""
Shared fixtures. Tests that need Airflow fail when it is missing: a local run without Airflow may
skip them only by setting DAG_BUILDER_TESTS_WITHOUT_AIRFLOW=1 (CI never does).
"""
from __future__ import annotations

import inspect

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

WITHOUT_AIRFLOW = "DAG_BUILDER_TESTS_WITHOUT_AIRFLOW"
REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_SPECS = REPOSITORY / "examples" / "task-specs"


def pytest_configure(config: pytest.Config) -> None:
    # Airflow writes its home folder on import: keep it out of the user's home and the repository.
    home = tempfile.mkdtemp(prefix="dag-builder-airflow-home-")
    config.stash[_HOME] = home
    os.environ["AIRFLOW_HOME"] = home
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    # Correctness, not speed, is tested here (bench.py measures parse time): a busy machine importing the
    # Kubernetes provider for the first time must not hit the DagBag's 30 s default.
    os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "600")


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    shutil.rmtree(config.stash.get(_HOME, ""), ignore_errors=True)


_HOME = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def dagbag_class() -> type:
    """Airflow's DagBag; a missing Airflow is a failure unless explicitly allowed to skip."""
    try:
        try:
            from airflow.dag_processing.dagbag import DagBag
        except ImportError:
            from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    except ImportError as error:
        if os.environ.get(WITHOUT_AIRFLOW) == "1":
            pytest.skip(f"Airflow is not installed and {WITHOUT_AIRFLOW}=1")
        pytest.fail(
            f"Airflow is not importable ({error}). Run them with the Python of the locked environment (`npx tsx test/airflow/venv.ts` prints it), or set "
            f"{WITHOUT_AIRFLOW}=1 to skip the Airflow checks locally.",
            pytrace=False,
        )
    return DagBag


@pytest.fixture
def load_dags(dagbag_class: type) -> Callable[[Path], object]:
    # Airflow 3.2's DagBag reads the bundled examples unless told not to; 3.3's never does and has no such argument.
    no_examples = {"include_examples": False} if "include_examples" in inspect.signature(dagbag_class.__init__).parameters else {}

    def load(folder: Path) -> object:
        return dagbag_class(dag_folder=str(folder), **no_examples)

    return load


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Writes {relative path: text} below a fresh source folder and returns it."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "specs"
        root.mkdir(exist_ok=True)
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return write


def spec_files(task_id: str, depends_on: list[str], **extra: object) -> dict[str, str]:
    """A spec file `<id>.yaml` and its query, for tests that care about the graph, not the lines."""
    lines = [f"id: {task_id}", f"sql: q/{task_id}.sql", f"depends_on: [{', '.join(depends_on)}]"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return {f"{task_id}.yaml": "\n".join(lines) + "\n", f"q/{task_id}.sql": f"select '{task_id}';\n"}


@pytest.fixture
def output(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "dags"
