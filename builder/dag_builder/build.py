"""One build: read the sources, plan the DAGs, and write them, or on any problem keep the last good files."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .graph import plan_dags
from .problems import Problem
from .render import dag_file_name, render_dag
from .settings import Settings
from .specs import load_inputs
from .write import WriteResult, owned_files, write_dags, write_status

#: A file in the source folder saying that no DAGs is meant: only then does a build without specs remove them all.
NO_DAGS_FILE = "NO_DAGS"


@dataclass
class BuildResult:
    problems: list[Problem] = field(default_factory=list)
    #: DAG id -> number of tasks, for a successful build.
    dags: dict[str, int] = field(default_factory=dict)
    written: WriteResult | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def render_sources(source: Path, settings: Settings) -> tuple[dict[str, str], dict[str, int], list[Problem]]:
    """File name -> DAG file text for every DAG of the specs below `source`, or the problems found."""
    if not source.is_dir():
        return {}, {}, [Problem(str(source), 0, "", "the source folder does not exist (yet: git-sync may not have cloned it)")]
    inputs = load_inputs(source, settings)
    plans, problems = plan_dags(inputs)
    problems = sorted(set(inputs.problems + problems))
    if problems:
        return {}, {}, problems
    files = {dag_file_name(p.dag_id): render_dag(p, settings) for p in plans}
    return files, {p.dag_id: len(p.tasks) for p in plans}, []


def build(source: Path, output: Path, settings: Settings) -> BuildResult:
    files, dags, problems = render_sources(source, settings)
    if not problems and not files:
        problems = _vanished(source, output)
    if problems:
        write_status(output, False, problems, {})
        return BuildResult(problems=problems)
    written = write_dags(output, files)
    write_status(output, True, [], dags)
    return BuildResult(dags=dags, written=written)


def _vanished(source: Path, output: Path) -> list[Problem]:
    """
    No specs where the last build found some: a wrong subPath or a moved folder looks exactly like this,
    so the DAG files are kept unless the source folder says, with its NO_DAGS file, that none are wanted.
    """
    existing = sorted(owned_files(output))
    if not existing or (source / NO_DAGS_FILE).is_file():
        return []
    return [Problem(str(source), 0, "", f"no task specs here, but the last build wrote {len(existing)} DAG file(s) ({', '.join(existing)}): "
                                        f"kept them; if no DAGs are wanted, commit an empty file {NO_DAGS_FILE} in this folder")]
