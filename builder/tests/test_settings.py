"""The settings file: defaults equal the generator's documented defaults; bad settings are problems."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dag_builder.problems import ProblemsFound
from dag_builder.settings import DEFAULTS, load_settings, settings_from

from .conftest import REPOSITORY


def test_the_defaults_are_the_ones_the_config_schema_documents() -> None:
    schema = json.loads((REPOSITORY / "airflow-gitops.schema.json").read_text())
    task_specs = schema["properties"]["dags"]["properties"]["taskSpecs"]["properties"]
    documented = {key: value["default"] for key, value in task_specs.items() if "default" in value}
    assert settings_from(documented, "schema") == DEFAULTS
    assert set(documented) == {"defaultDag", "schedule", "startDate", "connId", "retries", "owner", "operator", "pollSeconds", "tags"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"defaultDag": "a b"}, 'defaultDag: "a b" is not an id Airflow accepts: use letters, digits, "_", "-" and "." only'),
        ({"shedule": "@daily"}, 'shedule: unknown setting (did you mean "schedule"?)'),
        ({"retries": "2"}, "retries: must be an integer >= 0"),
        ({"pollSeconds": 0}, "pollSeconds: must be an integer >= 1"),
        ({"startDate": "yesterday"}, "startDate: must be a date YYYY-MM-DD"),
        ({"operator": "bash"}, "operator: must be one of sql, pod"),
        ({"operator": "pod"}, 'pod: operator "pod" needs pod.image'),
        ({"operator": "pod", "pod": {"image": "x:1", "arguments": ["{sql}"]}}, "pod.arguments: unknown placeholder {sql}; known: {task_id}, {dag_id}, {table}, {sql_file}, {conn_id}"),
        ({"tags": "a"}, "tags: must be a list of non-empty strings"),
    ],
)
def test_bad_settings_are_named(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ProblemsFound) as raised:
        settings_from(data, "settings.json")
    assert [str(p) for p in raised.value.problems] == [f"settings.json {expected}"]


def test_a_settings_file_is_read_as_yaml_or_json(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"defaultDag": "nightly", "pod": {"image": "acme/job:1"}}))
    settings = load_settings(path)
    assert settings.default_dag == "nightly" and settings.pod is not None and settings.pod.arguments == ("{sql_file}",)
    assert load_settings(None) == DEFAULTS
    with pytest.raises(ProblemsFound, match="cannot read the settings file"):
        load_settings(tmp_path / "missing.yaml")
