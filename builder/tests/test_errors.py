"""Every problem a user can make, reported with file, line and field; the output stays as it was."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from dag_builder.__main__ import main
from dag_builder.build import build
from dag_builder.settings import DEFAULTS
from dag_builder.write import read_status

SOURCES = "sources:\n  - raw.orders\n  - raw.users\n"
SQL = {"q/a.sql": "select 1;\n", "q/b.sql": "select 2;\n", "q/c.sql": "select 3;\n"}

CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "duplicate id",
        {"a.yaml": "id: a\nsql: q/a.sql\ndepends_on: []\n", "b.yaml": "id: a\nsql: q/b.sql\ndepends_on: []\ntable: other\n"},
        ['b.yaml:1 id: duplicate task id "a", also in a.yaml:1'],
    ),
    (
        "ids that differ only in letter case",
        {"a.yaml": "id: a\nsql: q/a.sql\ndepends_on: []\n", "b.yaml": "id: A\nsql: q/b.sql\ndepends_on: []\ntable: other\n"},
        ['b.yaml:1 id: task id "A" differs only in letter case from "a" (a.yaml:1); ids must differ in more than case'],
    ),
    (
        "DAGs that differ only in letter case",
        {"a.yaml": "id: a\nsql: q/a.sql\ndag: Sales\n", "b.yaml": "id: b\nsql: q/b.sql\ndepends_on: []\ndag: sales\n"},
        ['b.yaml:4 dag: DAG "sales" differs only in letter case from DAG "Sales" (a.yaml:3); their files would collide on a case-insensitive file system'],
    ),
    (
        "two tasks writing one table",
        {"a.yaml": "id: a\nsql: q/a.sql\ntable: orders\n", "b.yaml": "id: b\nsql: q/b.sql\ndepends_on: []\ntable: orders\n"},
        ['b.yaml:4 table: table "orders" is also written by task "a" (a.yaml:1); one table, one writer'],
    ),
    (
        "unknown table, with the closest known name",
        {"sources.yaml": SOURCES, "a.yaml": "id: a\nsql: q/a.sql\ndepends_on:\n  - raw.users\n  - raw.ordres\n"},
        ['a.yaml:5 depends_on: unknown table "raw.ordres": no task writes it and no sources.yaml declares it (did you mean "raw.orders"?)'],
    ),
    (
        "unknown table, nothing close",
        {"a.yaml": "id: a\nsql: q/a.sql\ndepends_on: [zzz]\n"},
        ['a.yaml:3 depends_on: unknown table "zzz": no task writes it and no sources.yaml declares it'],
    ),
    (
        "missing SQL file, with the closest file",
        {"a.yaml": "id: a\nsql: q/a.sq\ndepends_on: []\n"},
        ['a.yaml:2 sql: q/a.sq: no such file (did you mean "a.sql"?)'],
    ),
    (
        "SQL file outside the source folder",
        {"a.yaml": "id: a\nsql: ../secret.sql\ndepends_on: []\n"},
        ["a.yaml:2 sql: ../secret.sql: the SQL file must be inside the source folder"],
    ),
    (
        "cycle, printed as its path",
        {
            "a.yaml": "id: a\nsql: q/a.sql\ndepends_on: [c]\n",
            "b.yaml": "id: b\nsql: q/b.sql\ndepends_on: [a]\n",
            "c.yaml": "id: c\nsql: q/c.sql\ndepends_on:\n  - b\n",
        },
        ["a.yaml:3 depends_on: dependency cycle: a -> c -> b -> a (each task reads a table the next one writes)"],
    ),
    (
        "a task reading the table it writes",
        {"a.yaml": "id: a\nsql: q/a.sql\ndepends_on: [a]\n"},
        ["a.yaml:3 depends_on: dependency cycle: a -> a (each task reads a table the next one writes)"],
    ),
    (
        "task id Airflow refuses",
        {"a.yaml": "id: orders daily\nsql: q/a.sql\ndepends_on: []\n"},
        ['a.yaml:1 id: "orders daily" is not an id Airflow accepts: use letters, digits, "_", "-" and "." only'],
    ),
    (
        "DAG id Airflow refuses",
        {"a.yaml": "id: a\nsql: q/a.sql\ndag: finance/daily\n"},
        ['a.yaml:3 dag: "finance/daily" is not an id Airflow accepts: use letters, digits, "_", "-" and "." only'],
    ),
    (
        "a DAG id with two dots in a row, which Airflow 3.3 refuses",
        {"a.yaml": "id: a\nsql: q/a.sql\ndag: finance..daily\n"},
        ['a.yaml:3 dag: "finance..daily" has "..", which Airflow 3.3 refuses in ids (a guard against path traversal): use single dots'],
    ),
    (
        "task id too long",
        {"a.yaml": f"id: {'x' * 251}\nsql: q/a.sql\n"},
        [f"a.yaml:1 id: {'x' * 40}... is 251 characters long; Airflow accepts at most 250"],
    ),
    (
        "unknown field, with the closest field",
        {"a.yaml": "id: a\nsql: q/a.sql\ndepend_on: [raw.orders]\n"},
        ['a.yaml:3 depend_on: unknown field (did you mean "depends_on"?)'],
    ),
    (
        "missing required fields",
        {"a.yaml": "depends_on: []\n"},
        ["a.yaml:1 id: missing (every spec needs id and sql)", "a.yaml:1 sql: missing (every spec needs id and sql)"],
    ),
    (
        "wrong types",
        {"a.yaml": "id: a\nsql: q/a.sql\ndepends_on: raw.orders\nretries: -1\nowner: 3\n"},
        [
            "a.yaml:3 depends_on: must be a list of table names, e.g. [orders, users]",
            "a.yaml:4 retries: must be an integer >= 0",
            "a.yaml:5 owner: must be a non-empty string",
        ],
    ),
    (
        "not YAML",
        {"a.yaml": "id: a\nsql: [q/a.sql\n"},
        ["a.yaml:3 : not valid YAML: did not find expected ',' or ']'"],
    ),
    (
        "a key that is not a name",
        {"a.yaml": "id: a\nsql: q/a.sql\n? [x]\n: 1\n"},
        ["a.yaml:3 : field names are plain words such as id, sql and depends_on"],
    ),
    (
        "not a mapping",
        {"a.yaml": "- id: a\n"},
        ["a.yaml:1 : a task spec must be a mapping with id, sql and depends_on"],
    ),
    (
        "dependency on another DAG's table",
        {"a.yaml": "id: a\nsql: q/a.sql\ndag: one\n", "b.yaml": "id: b\nsql: q/b.sql\ndepends_on: [a]\ndag: two\n"},
        ['b.yaml:3 depends_on: table "a" is written by task "a" of DAG "one" (a.yaml), but this task belongs to DAG "two"; '
         "a task can only depend on tables written in its own DAG"],
    ),
    (
        "a source that a task writes",
        {"sources.yaml": SOURCES, "a.yaml": "id: a\nsql: q/a.sql\ntable: raw.users\n"},
        ['a.yaml:3 table: "raw.users" is declared as a source in sources.yaml:3, but this task writes it; remove one'],
    ),
    (
        "the readers of a broken spec's table get no second problem",
        {"a.yaml": "id: a b\nsql: q/a.sql\ntable: t\n", "b.yaml": "id: b\nsql: q/b.sql\ndepends_on: [t]\n"},
        ['a.yaml:1 id: "a b" is not an id Airflow accepts: use letters, digits, "_", "-" and "." only'],
    ),
    (
        "a sources file of the wrong shape",
        {"sources.yaml": "tables: [raw.orders]\n"},
        ["sources.yaml:1 sources: must be a list of the table names no task writes", 'sources.yaml:1 tables: unknown field; a sources file has only "sources"'],
    ),
]


def _fix(message: str) -> str:
    # A problem without a field prints as "file:line: message".
    return message.replace(" : ", ": ", 1)


@pytest.mark.parametrize(("name", "files", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_problem_names_file_line_and_field(name: str, files: dict[str, str], expected: list[str], tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    source = tree({**SQL, **files})
    result = build(source, output, DEFAULTS)
    assert [str(p) for p in result.problems] == [_fix(e) for e in expected]


def test_all_problems_are_reported_at_once_sorted_by_file_and_line(tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    files: dict[str, str] = {**SQL, "sources.yaml": SOURCES}
    for _, case_files, _ in CASES[:9]:
        files.update({f"{len(files)}-{k}" if k.endswith(".yaml") and k != "sources.yaml" else k: v for k, v in case_files.items()})
    problems = build(tree(files), output, DEFAULTS).problems
    assert len(problems) >= 9
    assert problems == sorted(problems)


def test_a_bad_spec_leaves_the_last_good_dags_in_place_and_reports_in_status_and_log(
    tree: Callable[[dict[str, str]], Path], output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tree({**SQL, "sources.yaml": SOURCES, "a.yaml": "id: a\nsql: q/a.sql\ndepends_on: [raw.orders]\n"})
    assert main(["--source", str(source), "--output", str(output), "--once"]) == 0
    before = {p.name: p.read_bytes() for p in output.glob("*.py")}
    (source / "b.yaml").write_text("id: b\nsql: q/b.sql\ndepends_on: [ordres]\n")
    assert main(["--source", str(source), "--output", str(output), "--once"]) == 1
    assert {p.name: p.read_bytes() for p in output.glob("*.py")} == before
    log = capsys.readouterr().err
    assert 'b.yaml:3 depends_on: unknown table "ordres"' in log
    assert "the DAG files of the last good build stay in place" in log
    status = read_status(output)
    assert status is not None and status["ok"] is False
    assert status["problems"][0]["file"] == "b.yaml" and status["problems"][0]["line"] == 3  # type: ignore[index]


def test_specs_that_vanish_keep_the_last_dags_until_the_source_says_none_are_wanted(
    tree: Callable[[dict[str, str]], Path], output: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tree({**SQL, "a.yaml": "id: a\nsql: q/a.sql\n", "b.yaml": "id: b\nsql: q/b.sql\ndag: other\n"})
    assert main(["--source", str(source), "--output", str(output), "--once"]) == 0
    before = {p.name: p.read_bytes() for p in output.glob("*.py")}
    # A push that moves the specs elsewhere: the folder is still there, with nothing in it.
    for spec in ("a.yaml", "b.yaml"):
        (source / spec).unlink()
    assert main(["--source", str(source), "--output", str(output), "--once"]) == 1
    assert {p.name: p.read_bytes() for p in output.glob("*.py")} == before
    assert f"{source}: no task specs here, but the last build wrote 2 DAG file(s) (other.py, task_specs.py): kept them; " \
           "if no DAGs are wanted, commit an empty file NO_DAGS in this folder" in capsys.readouterr().err
    (source / "NO_DAGS").write_text("")
    assert main(["--source", str(source), "--output", str(output), "--once"]) == 0
    assert list(output.glob("*.py")) == []


def test_a_first_build_without_specs_writes_nothing_and_passes(tree: Callable[[dict[str, str]], Path], output: Path) -> None:
    assert build(tree({"README.md": "specs go here\n"}), output, DEFAULTS).ok
    assert list(output.glob("*.py")) == []
