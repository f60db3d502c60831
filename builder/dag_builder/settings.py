"""
The builder's settings: `dags.taskSpecs` of airflow-gitops.yaml, which the generator writes to the
file given with --config. Every key is optional; the defaults below are the ones the generator's
schema documents (a test keeps the two equal).
"""
from __future__ import annotations

import datetime
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .names import airflow_id_error
from .problems import Problem, ProblemsFound, did_you_mean

OPERATORS = ("sql", "pod")
#: Placeholders a pod argument may use; each is replaced per task.
POD_PLACEHOLDERS = ("task_id", "dag_id", "table", "sql_file", "conn_id")


@dataclass(frozen=True)
class PodSettings:
    image: str
    arguments: tuple[str, ...] = ("{sql_file}",)
    command: tuple[str, ...] = ()
    namespace: str | None = None


@dataclass(frozen=True)
class Settings:
    default_dag: str = "task_specs"
    schedule: str = "@daily"
    start_date: datetime.date = datetime.date(2024, 1, 1)
    conn_id: str = "warehouse"
    retries: int = 2
    owner: str = "data"
    operator: str = "sql"
    pod: PodSettings | None = None
    poll_seconds: int = 30
    tags: tuple[str, ...] = field(default=("task-specs",))


DEFAULTS = Settings()


def load_settings(path: Path | None) -> Settings:
    """The settings in `path` (YAML or JSON), or the defaults without a path; ProblemsFound on bad input."""
    if path is None:
        return DEFAULTS
    name = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ProblemsFound([Problem(name, 0, "", f"cannot read the settings file ({error.strerror})")]) from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise ProblemsFound([Problem(name, line, "", f"not valid YAML: {error.problem or error}")]) from None
    except yaml.YAMLError as error:
        raise ProblemsFound([Problem(name, 0, "", f"not valid YAML: {error}")]) from None
    return settings_from(data if data is not None else {}, name)


_KEYS = {
    "defaultDag": "default_dag",
    "schedule": "schedule",
    "startDate": "start_date",
    "connId": "conn_id",
    "retries": "retries",
    "owner": "owner",
    "operator": "operator",
    "pod": "pod",
    "pollSeconds": "poll_seconds",
    "tags": "tags",
}


def settings_from(data: Any, file: str) -> Settings:
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(file, 0, key, message))

    if not isinstance(data, dict):
        raise ProblemsFound([Problem(file, 0, "", "must be a mapping of settings")])
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KEYS:
            bad(str(key), f"unknown setting{did_you_mean(str(key), _KEYS)}")
            continue
        values[_KEYS[key]] = value

    def text(key: str, attr: str) -> None:
        if attr in values and (not isinstance(values[attr], str) or not values[attr]):
            bad(key, "must be a non-empty string")

    for key in ("schedule", "connId", "owner"):
        text(key, _KEYS[key])
    if isinstance(values.get("default_dag"), str):
        reason = airflow_id_error(values["default_dag"])
        if reason:
            bad("defaultDag", reason)
    else:
        text("defaultDag", "default_dag")
    if "start_date" in values:
        values["start_date"] = _date(values["start_date"], lambda m: bad("startDate", m))
    for key, minimum in (("retries", 0), ("pollSeconds", 1)):
        attr = _KEYS[key]
        if attr in values and (type(values[attr]) is not int or values[attr] < minimum):
            bad(key, f"must be an integer >= {minimum}")
    if "operator" in values and values["operator"] not in OPERATORS:
        bad("operator", f"must be one of {', '.join(OPERATORS)}")
    if "tags" in values:
        tags = values["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            bad("tags", "must be a list of non-empty strings")
        else:
            values["tags"] = tuple(tags)
    if values.get("pod") is not None:
        values["pod"] = _pod(values["pod"], bad)
    if values.get("operator") == "pod" and values.get("pod") is None:
        bad("pod", 'operator "pod" needs pod.image')
    if problems:
        raise ProblemsFound(problems)
    return Settings(**values)


def _date(value: Any, bad: Any) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        bad("must be a date YYYY-MM-DD")
        return DEFAULTS.start_date


def _pod(value: Any, bad: Any) -> PodSettings | None:
    if not isinstance(value, dict):
        bad("pod", "must be a mapping with image, arguments, command, namespace")
        return None
    unknown = set(value) - {"image", "arguments", "command", "namespace"}
    for key in sorted(unknown):
        bad(f"pod.{key}", f"unknown setting{did_you_mean(key, ['image', 'arguments', 'command', 'namespace'])}")
    image = value.get("image")
    if not isinstance(image, str) or not image:
        bad("pod.image", "must be a non-empty string (the image each task runs in)")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("arguments", "command"):
        items = value.get(key, [] if key == "command" else ["{sql_file}"])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            bad(f"pod.{key}", "must be a list of strings")
            continue
        for item in items:
            for placeholder in _placeholders(item):
                if placeholder not in POD_PLACEHOLDERS:
                    bad(f"pod.{key}", f"unknown placeholder {{{placeholder}}}; known: " + ", ".join(f"{{{p}}}" for p in POD_PLACEHOLDERS))
        lists[key] = tuple(items)
    namespace = value.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        bad("pod.namespace", "must be a non-empty string")
    if not isinstance(image, str) or not image:
        return None
    return PodSettings(image=image, arguments=lists.get("arguments", ()), command=lists.get("command", ()), namespace=namespace)


def _placeholders(template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return ["{"]
