"""
python3 -m dag_builder --source DIR --output DIR [--once] [--config FILE]

Exit codes: 0 the DAG files are written (or, watching, the watcher was stopped), 1 the specs or the
settings have problems (each printed as file:line field: message), 2 an internal error.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Callable, Sequence

from .build import build
from .problems import ProblemsFound
from .settings import load_settings
from .watch import report, watch

EXIT_OK, EXIT_PROBLEMS, EXIT_INTERNAL = 0, 1, 2


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m dag_builder", description="Turns YAML task specs into Airflow DAG files.")
    parser.add_argument("--source", required=True, type=Path, help="folder of task specs, SQL files and sources.yaml")
    parser.add_argument("--output", required=True, type=Path, help="DAG folder to write")
    parser.add_argument("--config", type=Path, help="settings file (dags.taskSpecs as the generator writes it); defaults apply without it")
    parser.add_argument("--once", action="store_true", help="build once and exit instead of watching the source folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    log = _printer()
    try:
        settings = load_settings(arguments.config)
        if arguments.once:
            result = build(arguments.source, arguments.output, settings)
            report(result, log)
            return EXIT_OK if result.ok else EXIT_PROBLEMS
        stop = _stop_on_signals()
        log(f"watching {arguments.source} every {settings.poll_seconds}s, writing DAGs to {arguments.output}")

        def sleep(seconds: float) -> None:
            stop.wait(seconds)

        watch(arguments.source, arguments.output, settings, log=log, sleep=sleep, keep_going=lambda: not stop.is_set())
        return EXIT_OK
    except ProblemsFound as problems:
        for problem in problems.problems:
            log(str(problem))
        return EXIT_PROBLEMS
    except Exception:  # noqa: BLE001 - reported as what it is, with its stack
        log("internal error:\n" + traceback.format_exc())
        return EXIT_INTERNAL


def _printer() -> Callable[[str], None]:
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return log


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (as PID 1 in a container, Python has no default SIGTERM handling)."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
