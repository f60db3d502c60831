"""
From specs to DAGs: each table resolves to the task that writes it, a task runs after the writers of
the tables it reads, and every inconsistency (duplicate id, two writers, unknown table, cycle) is a
problem at the spec line that causes it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .problems import Problem, did_you_mean
from .specs import Dependency, Inputs, Source, Spec


@dataclass(frozen=True)
class DagPlan:
    dag_id: str
    #: Tasks by id, sorted.
    tasks: tuple[Spec, ...]
    #: For each task id with upstream tasks, their ids, sorted.
    upstream: dict[str, tuple[str, ...]]


def plan_dags(inputs: Inputs) -> tuple[list[DagPlan], list[Problem]]:
    problems: list[Problem] = []
    specs = _unique_ids(inputs.specs, problems)
    _unique_dag_ids(specs, problems)
    writers = _writers(specs, problems)
    sources = _sources(inputs.sources)
    for table, written_by in sorted(writers.items()):
        if table in sources:
            source = sources[table]
            problems.append(
                Problem(written_by.file, written_by.line("table" if "table" in written_by.lines else "id"), "table",
                        f'"{table}" is declared as a source in {source.file}:{source.line}, but this task writes it; remove one')
            )
    upstream: dict[str, dict[str, Dependency]] = {s.id: {} for s in specs}
    known_tables = sorted(set(writers) | set(sources))
    for spec in specs:
        for dep in spec.depends_on:
            writer = writers.get(dep.table)
            if writer is None:
                if dep.table not in sources and dep.table not in inputs.broken_tables:
                    problems.append(Problem(spec.file, dep.line, "depends_on",
                                            f'unknown table "{dep.table}": no task writes it and no sources.yaml declares it'
                                            f"{did_you_mean(dep.table, known_tables)}"))
            elif writer.dag != spec.dag:
                problems.append(Problem(spec.file, dep.line, "depends_on",
                                        f'table "{dep.table}" is written by task "{writer.id}" of DAG "{writer.dag}" '
                                        f'({writer.file}), but this task belongs to DAG "{spec.dag}"; a task can only '
                                        "depend on tables written in its own DAG"))
            else:
                upstream[spec.id].setdefault(writer.id, dep)
    by_id = {s.id: s for s in specs}
    for cycle in find_cycles({t: sorted(u) for t, u in upstream.items()}):
        start, after = by_id[cycle[0]], cycle[1]
        problems.append(Problem(start.file, upstream[start.id][after].line, "depends_on",
                                "dependency cycle: " + " -> ".join(cycle) + " (each task reads a table the next one writes)"))
    plans = [
        DagPlan(
            dag_id=dag_id,
            tasks=tuple(sorted((s for s in specs if s.dag == dag_id), key=lambda s: s.id)),
            upstream={s.id: tuple(sorted(upstream[s.id])) for s in sorted(specs, key=lambda s: s.id) if s.dag == dag_id and upstream[s.id]},
        )
        for dag_id in sorted({s.dag for s in specs})
    ]
    return plans, problems


def _unique_ids(specs: list[Spec], problems: list[Problem]) -> list[Spec]:
    # Ids that differ only in letter case collide in the UI, and DAG files on a case-insensitive file system.
    first: dict[str, Spec] = {}
    for spec in specs:
        key = spec.id.casefold()
        if key in first:
            other = first[key]
            if other.id == spec.id:
                message = f'duplicate task id "{spec.id}", also in {other.file}:{other.line("id")}'
            else:
                message = f'task id "{spec.id}" differs only in letter case from "{other.id}" ({other.file}:{other.line("id")}); ids must differ in more than case'
            problems.append(Problem(spec.file, spec.line("id"), "id", message))
        else:
            first[key] = spec
    return list(first.values())


def _unique_dag_ids(specs: list[Spec], problems: list[Problem]) -> None:
    """DAG ids that differ only in letter case: their files collide on a case-insensitive file system."""
    first: dict[str, Spec] = {}
    for spec in sorted(specs, key=lambda s: (s.file, s.id)):
        other = first.setdefault(spec.dag.casefold(), spec)
        if other.dag != spec.dag:
            field = "dag" if "dag" in spec.lines else "id"
            problems.append(Problem(spec.file, spec.line(field), field,
                                    f'DAG "{spec.dag}" differs only in letter case from DAG "{other.dag}" ({other.file}:{other.line("dag")}); '
                                    "their files would collide on a case-insensitive file system"))


def _writers(specs: list[Spec], problems: list[Problem]) -> dict[str, Spec]:
    writers: dict[str, Spec] = {}
    for spec in specs:
        if spec.table in writers:
            other = writers[spec.table]
            field = "table" if "table" in spec.lines else "id"
            problems.append(Problem(spec.file, spec.line(field), field,
                                    f'table "{spec.table}" is also written by task "{other.id}" ({other.file}:{other.line("id")}); '
                                    "one table, one writer"))
        else:
            writers[spec.table] = spec
    return writers


def _sources(sources: list[Source]) -> dict[str, Source]:
    first: dict[str, Source] = {}
    for source in sources:
        first.setdefault(source.table, source)
    return first


def find_cycles(upstream: dict[str, list[str]]) -> list[list[str]]:
    """
    One cycle per strongly connected component that has one, as a path that starts and ends at the
    component's smallest id, following upstream links (an iterative Tarjan, safe for deep graphs).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in sorted(upstream):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            neighbours = upstream.get(node, [])
            if child < len(neighbours):
                work.append((node, child + 1))
                nxt = neighbours[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    cycles = []
    for component in components:
        members = set(component)
        start = min(component)
        if len(component) > 1 or start in upstream.get(start, []):
            cycles.append(_cycle_through(start, members, upstream))
    return sorted(cycles)


def _cycle_through(start: str, members: set[str], upstream: dict[str, list[str]]) -> list[str]:
    """The shortest path start -> ... -> start inside one strongly connected component (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in upstream.get(node, []):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")
