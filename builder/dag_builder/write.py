"""
Writing the DAG folder. Each file is replaced atomically (a temporary file in the same folder, then
a rename), unchanged files are not touched, and stale files are removed only if the builder wrote
them (they start with its header). The status file tells a check or the UI the last build's result.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem
from .render import HEADER

STATUS_FILE = "dag_builder_status.json"
_TEMP_SUFFIX = ".dag_builder.tmp"


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def write_dags(output: Path, files: dict[str, str]) -> WriteResult:
    """Brings `output` to exactly `files` (name -> text) among the builder's own files."""
    output.mkdir(parents=True, exist_ok=True)
    _remove_leftover_temporaries(output)
    result = WriteResult()
    for name in sorted(files):
        if _read(output / name) == files[name]:
            result.unchanged.append(name)
        else:
            write_atomically(output / name, files[name])
            result.written.append(name)
    for name in sorted(owned_files(output)):
        if name not in files:
            (output / name).unlink()
            result.removed.append(name)
    return result


def owned_files(output: Path) -> list[str]:
    """DAG files in `output` that the builder wrote."""
    if not output.is_dir():
        return []
    return [p.name for p in output.iterdir() if p.suffix == ".py" and p.is_file() and _starts_with_header(p)]


def write_status(output: Path, ok: bool, problems: list[Problem], dags: dict[str, int]) -> None:
    status = {
        "ok": ok,
        "problems": [p.as_json() for p in problems],
        "report": [str(p) for p in problems],
        "dags": dict(sorted(dags.items())),
    }
    output.mkdir(parents=True, exist_ok=True)
    text = json.dumps(status, indent=2, ensure_ascii=False) + "\n"
    if _read(output / STATUS_FILE) != text:
        write_atomically(output / STATUS_FILE, text)


def read_status(output: Path) -> dict[str, object] | None:
    text = _read(output / STATUS_FILE)
    return json.loads(text) if text is not None else None


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}{_TEMP_SUFFIX}")
    try:
        with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _remove_leftover_temporaries(output: Path) -> None:
    for path in output.iterdir():
        if path.name.startswith(".") and path.name.endswith(_TEMP_SUFFIX):
            path.unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _starts_with_header(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().rstrip("\n") == HEADER
    except (OSError, UnicodeDecodeError):
        return False
