"""
Reading the source folder: one task spec per YAML file, and `sources.yaml` files declaring the
tables no task writes. Values keep the line they came from, so every problem names file and line.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeGuard

import yaml

from .names import airflow_id_error
from .problems import Problem, did_you_mean
from .settings import Settings

SOURCES_FILES = ("sources.yaml", "sources.yml")
SPEC_SUFFIXES = (".yaml", ".yml")
REQUIRED_FIELDS = ("id", "sql")
OPTIONAL_FIELDS = ("depends_on", "table", "dag", "retries", "pool", "owner", "conn_id")

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Dependency:
    table: str
    line: int


@dataclass(frozen=True)
class Spec:
    """One task, as its spec file states it, with the defaults of the settings filled in."""

    file: str
    id: str
    sql_file: str
    query: str
    depends_on: tuple[Dependency, ...]
    table: str
    dag: str
    retries: int | None = None
    pool: str | None = None
    owner: str | None = None
    conn_id: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def line(self, field_name: str) -> int:
        return self.lines.get(field_name, self.lines.get("", 1))


@dataclass(frozen=True)
class Source:
    table: str
    file: str
    line: int


@dataclass
class Inputs:
    specs: list[Spec] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Tables of specs that have problems of their own: reading them is not a second problem.
    broken_tables: set[str] = field(default_factory=set)


def input_files(root: Path) -> list[tuple[str, str]]:
    """(path, name relative to `root` with "/") of every YAML file below `root`, hidden ones skipped, in a stable order."""
    found: list[tuple[str, str]] = []
    top = os.fspath(root)
    for directory, folders, files in os.walk(top):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        prefix = os.path.relpath(directory, top).replace(os.sep, "/")
        for f in sorted(files):
            if f.endswith(SPEC_SUFFIXES) and not f.startswith("."):
                found.append((os.path.join(directory, f), f if prefix == "." else f"{prefix}/{f}"))
    return found


def load_inputs(root: Path, settings: Settings) -> Inputs:
    inputs = Inputs()
    real_root = os.path.realpath(root)
    for path, name in input_files(root):
        node = _compose(path, name, inputs.problems)
        if node is None:
            continue
        if os.path.basename(path) in SOURCES_FILES:
            inputs.sources.extend(_sources(node, name, inputs.problems))
        else:
            spec = _spec(node, name, path, real_root, settings, inputs.problems)
            if isinstance(spec, Spec):
                inputs.specs.append(spec)
            elif spec is not None:
                inputs.broken_tables.add(spec)
    return inputs


def _compose(path: str, name: str, problems: list[Problem]) -> yaml.Node | None:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(name, 0, "", f"cannot read the file ({error})"))
        return None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problems.append(Problem(name, mark.line + 1 if mark else 0, "", f"not valid YAML: {error.problem or error.context}"))
        return None
    except yaml.YAMLError as error:
        problems.append(Problem(name, 0, "", f"not valid YAML: {error}"))
        return None
    if node is None:
        problems.append(Problem(name, 1, "", "the file is empty"))
    return node


_STR_TAG = "tag:yaml.org,2002:str"


def _scalar(node: yaml.Node) -> Any:
    if node.tag == _STR_TAG:
        return node.value
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _sources(node: yaml.Node, name: str, problems: list[Problem]) -> list[Source]:
    entries = None
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if _scalar(key) == "sources" and isinstance(value, yaml.SequenceNode):
                entries = value
            else:
                problems.append(Problem(name, _line(key), str(_scalar(key)), 'unknown field; a sources file has only "sources"'))
    if entries is None:
        problems.append(Problem(name, _line(node), "sources", "must be a list of the table names no task writes"))
        return []
    found: list[Source] = []
    for item in entries.value:
        table = _scalar(item) if isinstance(item, yaml.ScalarNode) else None
        if not _is_table(table):
            problems.append(Problem(name, _line(item), "sources", "each entry must be a table name (a string without spaces)"))
        else:
            found.append(Source(table, name, _line(item)))
    return found


def _is_table(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value != "" and not any(c.isspace() for c in value)


def _spec(node: yaml.Node, name: str, path: str, real_root: str, settings: Settings, problems: list[Problem]) -> Spec | str | None:
    """The spec, or for a spec with problems the table it would write (when that is known)."""
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(name, _line(node), "", "a task spec must be a mapping with id, sql and depends_on"))
        return None
    count = len(problems)

    def bad(field_name: str, line: int, message: str) -> None:
        problems.append(Problem(name, line, field_name, message))

    values: dict[str, Any] = {}
    lines: dict[str, int] = {"": _line(node)}
    nodes: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            bad("", _line(key_node), "field names are plain words such as id, sql and depends_on")
            continue
        if key not in REQUIRED_FIELDS + OPTIONAL_FIELDS:
            bad(str(key), _line(key_node), f"unknown field{did_you_mean(str(key), REQUIRED_FIELDS + OPTIONAL_FIELDS)}")
            continue
        if key in values:
            bad(key, _line(key_node), f"given twice (first on line {lines[key]})")
            continue
        lines[key] = _line(key_node)
        nodes[key] = value_node
        values[key] = _scalar(value_node) if isinstance(value_node, yaml.ScalarNode) else None
    for key in REQUIRED_FIELDS:
        if key not in lines:
            bad(key, _line(node), "missing (every spec needs id and sql)")

    def text(key: str) -> str | None:
        if key not in lines:
            return None
        value = values[key]
        if not isinstance(value, str) or value == "":
            bad(key, lines[key], "must be a non-empty string")
            return None
        return value

    task_id = text("id")
    if task_id is not None and (reason := airflow_id_error(task_id)):
        bad("id", lines["id"], reason)
    dag = text("dag") if "dag" in lines else settings.default_dag
    if dag is not None and "dag" in lines and (reason := airflow_id_error(dag)):
        bad("dag", lines["dag"], reason)
    table = text("table") if "table" in lines else task_id
    if "table" in lines and table is not None and not _is_table(table):
        bad("table", lines["table"], "must be a table name without spaces")
    pool, owner, conn_id = text("pool"), text("owner"), text("conn_id")
    retries = values.get("retries")
    if "retries" in lines and (type(retries) is not int or retries < 0):
        bad("retries", lines["retries"], "must be an integer >= 0")
    depends_on = _dependencies(nodes.get("depends_on"), lines.get("depends_on"), bad)
    sql_file, query = _query(text("sql"), lines.get("sql", 0), path, real_root, bad)
    if len(problems) > count or task_id is None or sql_file is None or table is None or dag is None:
        raw_table = values.get("table", values.get("id"))
        return raw_table if isinstance(raw_table, str) and raw_table else None
    return Spec(
        file=name,
        id=task_id,
        sql_file=sql_file,
        query=query,
        depends_on=depends_on,
        table=table,
        dag=dag,
        retries=retries if "retries" in lines else None,
        pool=pool,
        owner=owner,
        conn_id=conn_id,
        lines=lines,
    )


def _dependencies(node: yaml.Node | None, line: int | None, bad: Any) -> tuple[Dependency, ...]:
    if node is None or line is None:
        return ()
    if isinstance(node, yaml.ScalarNode) and _scalar(node) is None:
        return ()
    if not isinstance(node, yaml.SequenceNode):
        bad("depends_on", line, "must be a list of table names, e.g. [orders, users]")
        return ()
    found: list[Dependency] = []
    seen: set[str] = set()
    for item in node.value:
        table = _scalar(item) if isinstance(item, yaml.ScalarNode) else None
        if not _is_table(table):
            bad("depends_on", _line(item), "each entry must be a table name (a string without spaces)")
        elif table not in seen:
            seen.add(table)
            found.append(Dependency(table, _line(item)))
    return tuple(found)


def _query(sql: str | None, line: int, spec_path: str, real_root: str, bad: Any) -> tuple[str | None, str]:
    if sql is None:
        return None, ""
    if PurePosixPath(sql).is_absolute():
        bad("sql", line, f"{sql}: must be a path relative to the spec file")
        return None, ""
    target = os.path.realpath(os.path.join(os.path.dirname(spec_path), sql))
    if not target.startswith(os.path.join(real_root, "")):
        bad("sql", line, f"{sql}: the SQL file must be inside the source folder")
        return None, ""
    try:
        # utf-8-sig: an editor's byte order mark is not part of the query.
        with open(target, encoding="utf-8-sig") as handle:
            query = handle.read()
        return os.path.relpath(target, real_root).replace(os.sep, "/"), query
    except FileNotFoundError:
        bad("sql", line, f"{sql}: no such file{_nearby(target)}")
    except IsADirectoryError:
        bad("sql", line, f"{sql}: is a folder, not a SQL file")
    except (OSError, UnicodeDecodeError) as error:
        bad("sql", line, f"{sql}: cannot read the file ({error})")
    return None, ""


def _nearby(missing: str) -> str:
    folder = os.path.dirname(missing)
    try:
        siblings = [f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f))]
    except OSError:
        return ""
    return did_you_mean(os.path.basename(missing), siblings)
