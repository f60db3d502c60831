"""The generated files in a real Airflow DagBag: zero import errors and exactly the expected graph."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from dag_builder.build import build
from dag_builder.names import airflow_id_error
from dag_builder.settings import DEFAULTS, settings_from

from .conftest import EXAMPLE_SPECS, spec_files

Edges = set[tuple[str, str]]


def _specs(*entries: dict[str, str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for entry in entries:
        files.update(entry)
    return files


GRAPH_CASES: list[tuple[str, dict[str, str], dict[str, Edges]]] = [
    (
        "chain",
        _specs(spec_files("a", []), spec_files("b", ["a"]), spec_files("c", ["b"])),
        {"task_specs": {("a", "b"), ("b", "c")}},
    ),
    (
        "diamond",
        _specs(spec_files("a", []), spec_files("b", ["a"]), spec_files("c", ["a"]), spec_files("d", ["b", "c"])),
        {"task_specs": {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}},
    ),
    (
        "fan-in",
        _specs(spec_files("a", []), spec_files("b", []), spec_files("c", []), spec_files("all", ["a", "b", "c"])),
        {"task_specs": {("a", "all"), ("b", "all"), ("c", "all")}},
    ),
    (
        "source table and named tables",
        _specs(
            {"sources.yaml": "sources: [raw.events]\n"},
            spec_files("clean", ["raw.events"], table="staging.events"),
            spec_files("daily", ["staging.events", "raw.events"], table="marts.daily"),
        ),
        {"task_specs": {("clean", "daily")}},
    ),
    (
        "several DAG groups",
        _specs(
            spec_files("a", []), spec_files("b", ["a"]),
            spec_files("x", [], dag="finance"), spec_files("y", ["x"], dag="finance"), spec_files("z", ["x", "y"], dag="finance"),
        ),
        {"task_specs": {("a", "b")}, "finance": {("x", "y"), ("x", "z"), ("y", "z")}},
    ),
    (
        "single task",
        spec_files("only", []),
        {"task_specs": set()},
    ),
]


def _edges(dag: Any) -> Edges:
    return {(upstream, task.task_id) for task in dag.tasks for upstream in task.upstream_task_ids}


@pytest.mark.parametrize(("name", "files", "expected"), GRAPH_CASES, ids=[c[0] for c in GRAPH_CASES])
def test_dag_edges_equal_the_expected_graph(name: str, files: dict[str, str], expected: dict[str, Edges],
                                            tree: Callable[[dict[str, str]], Path], output: Path, load_dags: Callable[[Path], Any]) -> None:
    result = build(tree(files), output, DEFAULTS)
    assert result.ok, result.problems
    bag = load_dags(output)
    assert bag.import_errors == {}
    assert {dag_id: _edges(dag) for dag_id, dag in bag.dags.items()} == expected


def test_the_examples_load_with_zero_import_errors(tmp_path: Path, load_dags: Callable[[Path], Any]) -> None:
    settings = settings_from({"defaultDag": "warehouse", "connId": "warehouse"}, "test")
    result = build(EXAMPLE_SPECS, tmp_path, settings)
    assert result.ok, result.problems
    bag = load_dags(tmp_path)
    assert bag.import_errors == {}
    assert {dag_id: len(dag.tasks) for dag_id, dag in bag.dags.items()} == {"warehouse": 11, "marketing": 4}
    warehouse = bag.dags["warehouse"]
    # The diamond: fct_orders feeds daily_revenue through dim_customers and through fct_product_sales.
    assert {("fct_orders", "dim_customers"), ("fct_orders", "fct_product_sales"),
            ("dim_customers", "daily_revenue"), ("fct_product_sales", "daily_revenue")} <= _edges(warehouse)
    task = warehouse.get_task("fct_orders")
    assert type(task).__name__ == "SQLExecuteQueryOperator"
    assert task.conn_id == "warehouse" and task.retries == 3 and task.owner == "finance-data"
    assert task.sql == (EXAMPLE_SPECS / "warehouse" / "queries" / "fct_orders.sql").read_text()
    assert warehouse.get_task("stg_orders").retries == DEFAULTS.retries


def test_settings_shape_the_dag(tree: Callable[[dict[str, str]], Path], output: Path, load_dags: Callable[[Path], Any]) -> None:
    settings = settings_from(
        {"defaultDag": "nightly", "schedule": "0 3 * * *", "startDate": "2025-02-03", "connId": "dwh", "retries": 5, "owner": "bi", "tags": ["bi", "specs"]},
        "test",
    )
    build(tree(_specs(spec_files("a", []), spec_files("b", ["a"], conn_id="other", pool="heavy"))), output, settings)
    dag = load_dags(output).dags["nightly"]
    assert dag.start_date.isoformat() == "2025-02-03T00:00:00+00:00"
    assert sorted(dag.tags) == ["bi", "specs"]
    a, b = dag.get_task("a"), dag.get_task("b")
    assert (a.conn_id, a.retries, a.owner, a.pool) == ("dwh", 5, "bi", "default_pool")
    assert (b.conn_id, b.pool) == ("other", "heavy")
    assert dag.schedule == "0 3 * * *"


def test_pod_operator_with_an_argument_template(tree: Callable[[dict[str, str]], Path], output: Path, load_dags: Callable[[Path], Any]) -> None:
    settings = settings_from(
        {"operator": "pod", "pod": {"image": "acme/spark-sql:3.5.1", "command": ["spark-sql", "--name=$(HOME)"], "arguments": ["-f", "/specs/{sql_file}", "--conf", "table={table}", "--cost=$5"], "namespace": "jobs"}},
        "test",
    )
    files = _specs(spec_files("a", [], table="marts.a"), spec_files("b", ["marts.a"]))
    build(tree(files), output, settings)
    bag = load_dags(output)
    assert bag.import_errors == {}
    task = bag.dags["task_specs"].get_task("a")
    assert type(task).__name__ == "KubernetesPodOperator"
    assert (task.image, task.cmds, task.arguments, task.namespace) == (
        "acme/spark-sql:3.5.1",
        ["spark-sql", "--name=$$(HOME)"],  # the kubelet reads $$ as $: the container sees $(HOME), not the env var
        ["-f", "/specs/q/a.sql", "--conf", "table=marts.a", "--cost=$$5"],
        "jobs",
    )
    assert _edges(bag.dags["task_specs"]) == {("a", "b")}


@pytest.mark.parametrize("candidate", ["orders", "orders.daily", "orders-daily_2", "ordres daily", "a/b", "x" * 250, "x" * 251, "ünïcode", "", "a:b"])
def test_the_id_rule_agrees_with_airflow(candidate: str, dagbag_class: type) -> None:
    from airflow.sdk.definitions._internal.node import validate_key

    try:
        validate_key(candidate)
        airflow_accepts = True
    except (ValueError, TypeError):
        airflow_accepts = False
    assert (airflow_id_error(candidate) is None) == airflow_accepts
