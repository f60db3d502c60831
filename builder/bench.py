"""
Benchmark of the builder (run by `npm run bench:builder`; needs Airflow, its common.sql provider and
dag-factory: the locked environment of test/airflow):

1. Build time of 1,000 specs (goal: <= 2 s), in process and as the command the pod runs.
2. DagBag parse time of the generated DAG file against two yardsticks declaring the same 1,000
   operators and edges: a plain hand-written DAG file (the floor; goal: within 1.2x) and the same
   graph declared for dag-factory (goal: below it). The three are parsed interleaved, round after
   round, in one process with Airflow already imported; medians and ratios are printed.
"""
from __future__ import annotations

import argparse
import gc
import inspect
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

try:
    import yaml  # noqa: F401 - the builder's one dependency
except ImportError:
    sys.exit(f'{sys.executable} has no PyYAML: run the benchmark with the Python of the locked environment (BUILDER_PYTHON="$(npx tsx test/airflow/venv.ts)/bin/python")')

from dag_builder.build import build, render_sources  # noqa: E402
from dag_builder.graph import plan_dags  # noqa: E402
from dag_builder.settings import DEFAULTS  # noqa: E402
from dag_builder.specs import load_inputs  # noqa: E402

DAG_ID = DEFAULTS.default_dag
OPERATOR = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator"


def write_specs(root: Path, tasks: int, seed: int = 7) -> None:
    """`tasks` specs in layers of 100, each reading one to three tables of the layers before it."""
    rng = random.Random(seed)
    layer_size = 100
    sources = [f"raw.table_{i:03d}" for i in range(50)]
    (root / "queries").mkdir(parents=True)
    (root / "sources.yaml").write_text("sources:\n" + "".join(f"  - {s}\n" for s in sources))
    written: list[list[str]] = []
    for index in range(tasks):
        layer = index // layer_size
        if layer == len(written):
            written.append([])
        pool = sources if layer == 0 else [t for earlier in written[max(0, layer - 2):layer] for t in earlier]
        depends_on = sorted(set(rng.sample(pool, rng.randint(1, 3))))
        task_id = f"task_{index:04d}"
        table = f"layer{layer}.t_{index:04d}"
        written[layer].append(table)
        (root / f"{task_id}.yaml").write_text(
            f"id: {task_id}\nsql: queries/{task_id}.sql\ndepends_on: [{', '.join(depends_on)}]\ntable: {table}\n"
        )
        (root / "queries" / f"{task_id}.sql").write_text(
            f"-- {table} for the run's day.\nDELETE FROM {table} WHERE day = '{{{{ ds }}}}';\n"
            f"INSERT INTO {table} (key, day, value)\nSELECT key, day, sum(value)\nFROM {depends_on[0]}\n"
            "WHERE day = '{{ ds }}'\nGROUP BY key, day;\n"
        )


def hand_written_dag(source: Path) -> str:
    """The floor: a DAG file a person would write, one statement per operator and per dependency."""
    inputs = load_inputs(source, DEFAULTS)
    (plan,), problems = plan_dags(inputs)
    assert not problems, problems
    lines = [
        "import datetime",
        "from airflow.sdk import DAG",
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator",
        "",
        f"with DAG(dag_id={DAG_ID!r}, schedule='@daily', start_date=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),",
        "         catchup=False, default_args={'owner': 'data', 'retries': 2}, tags=['task-specs']):",
    ]
    for spec in plan.tasks:
        lines.append(f"    {spec.id} = SQLExecuteQueryOperator(task_id={spec.id!r}, conn_id='warehouse', sql={spec.query!r})")
    for task_id, upstream in plan.upstream.items():
        lines.append(f"    [{', '.join(upstream)}] >> {task_id}")
    return "\n".join(lines) + "\n"


def dag_factory_files(source: Path) -> dict[str, str]:
    """The same graph as a dag-factory YAML config and the loader file dag-factory asks for."""
    import yaml

    inputs = load_inputs(source, DEFAULTS)
    (plan,), _ = plan_dags(inputs)
    config = {
        DAG_ID: {
            "default_args": {"owner": "data", "retries": 2, "start_date": "2024-01-01"},
            "schedule": "@daily",
            "catchup": False,
            "tags": ["task-specs"],
            "tasks": [
                {
                    "task_id": spec.id,
                    "operator": OPERATOR,
                    "conn_id": "warehouse",
                    "sql": spec.query,
                    **({"dependencies": list(plan.upstream[spec.id])} if spec.id in plan.upstream else {}),
                }
                for spec in plan.tasks
            ],
        }
    }
    loader = (
        "# airflow DAG loader for dag-factory\n"
        "import os\n"
        "from dagfactory import load_yaml_dags\n\n"
        "load_yaml_dags(globals_dict=globals(), config_filepath=os.path.join(os.path.dirname(__file__), 'tasks.yml'))\n"
    )
    return {"tasks.yml": yaml.safe_dump(config, sort_keys=False), "dag_factory_dag.py": loader}


def median_seconds(run: Callable[[], Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7, help="parse rounds per DAG file (after one warm-up round)")
    arguments = parser.parse_args()
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "1")
    with tempfile.TemporaryDirectory(prefix="dag-builder-bench-") as scratch:
        root = Path(scratch)
        os.environ.setdefault("AIRFLOW_HOME", str(root / "airflow-home"))
        source = root / "specs"
        write_specs(source, arguments.tasks)

        build_in_process = median_seconds(lambda: build(source, root / f"out-{time.perf_counter_ns()}", DEFAULTS), 5)

        def build_command_once() -> None:
            done = subprocess.run([sys.executable, "-m", "dag_builder", "--source", str(source), "--output", str(root / f"cli-{time.perf_counter_ns()}"), "--once"],
                                  cwd=HERE, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(done.stderr)

        build_command = median_seconds(build_command_once, 3)

        folders = {"generated (dag_builder)": root / "generated", "hand-written (floor)": root / "hand", "dag-factory": root / "factory"}
        files, _, problems = render_sources(source, DEFAULTS)
        assert not problems
        for name, folder in folders.items():
            folder.mkdir()
        for file_name, text in files.items():
            (folders["generated (dag_builder)"] / file_name).write_text(text)
        (folders["hand-written (floor)"] / "hand_written_dag.py").write_text(hand_written_dag(source))
        for file_name, text in dag_factory_files(source).items():
            (folders["dag-factory"] / file_name).write_text(text)

        try:
            try:
                from airflow.dag_processing.dagbag import DagBag
            except ImportError:
                from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
            import dagfactory  # noqa: F401 - imported before timing, like Airflow itself
        except ImportError as error:
            print(f"the parse benchmark needs Airflow and dag-factory: {error} (see test/airflow/requirements.in)", file=sys.stderr)
            return 2

        # Airflow 3.2's DagBag reads the bundled examples unless told not to; 3.3's never does and has no such argument.
        no_examples = {"include_examples": False} if "include_examples" in inspect.signature(DagBag.__init__).parameters else {}

        def parse(folder: Path) -> Any:
            bag = DagBag(dag_folder=str(folder), **no_examples)
            if bag.import_errors:
                raise SystemExit(f"{folder}: import errors {bag.import_errors}")
            return bag

        graphs = {}
        for name, folder in folders.items():
            dag = parse(folder).dags[DAG_ID]
            graphs[name] = (len(dag.tasks), {(u, t.task_id) for t in dag.tasks for u in t.upstream_task_ids})
        reference = graphs["generated (dag_builder)"]
        for name, graph in graphs.items():
            assert graph == reference, f"{name} declares a different graph"

        samples: dict[str, list[float]] = {name: [] for name in folders}
        order = list(folders)
        for round_index in range(arguments.rounds):
            for name in order[round_index % 3:] + order[:round_index % 3]:
                gc.collect()
                started = time.perf_counter()
                parse(folders[name])
                samples[name].append(time.perf_counter() - started)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    generated = medians["generated (dag_builder)"]
    floor = medians["hand-written (floor)"]
    factory = medians["dag-factory"]
    import airflow

    print(f"dag_builder benchmark: {arguments.tasks} specs, {len(reference[1])} edges, Airflow {airflow.__version__}, "
          f"Python {sys.version.split()[0]}, {arguments.rounds} interleaved parse rounds after one warm-up")
    print("")
    print("| measure | median | goal | result |")
    print("| --- | --- | --- | --- |")
    print(f"| build {arguments.tasks} specs, in process | {build_in_process:.3f} s | <= 2 s | {'met' if build_in_process <= 2 else 'MISSED'} |")
    print(f"| build {arguments.tasks} specs, `python3 -m dag_builder --once` | {build_command:.3f} s | <= 2 s | {'met' if build_command <= 2 else 'MISSED'} |")
    print(f"| DagBag parse, hand-written DAG file (floor) | {floor:.3f} s | | |")
    print(f"| DagBag parse, generated DAG file | {generated:.3f} s | <= 1.2 x floor | {generated / floor:.2f} x floor: {'met' if generated <= 1.2 * floor else 'MISSED'} |")
    print(f"| DagBag parse, dag-factory | {factory:.3f} s | above generated | generated = {generated / factory:.2f} x dag-factory: {'met' if generated < factory else 'MISSED'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
