"""
The builder as the generator ships it: the committed dag-sync ConfigMap laid out as its volume items
say, run with the container's command and environment (paths moved into a temporary folder).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .conftest import EXAMPLE_SPECS, REPOSITORY


def _documents(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def test_the_committed_configmap_runs_as_the_dag_sync_container_runs_it(tmp_path: Path) -> None:
    config_map = _documents(REPOSITORY / "base" / "dag-sync-configmap.yaml")
    deployment = _documents(REPOSITORY / "base" / "dag-sync-deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "dag-builder")
    mount = next(m for m in container["volumeMounts"] if m["name"] == "dag-builder")
    volume = next(v for v in pod["volumes"] if v["name"] == "dag-builder")

    home = tmp_path / "builder-home"
    for item in volume["configMap"]["items"]:
        target = home / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(config_map["data"][item["key"]])
    for name in sorted(p.name for p in (REPOSITORY / "builder" / "dag_builder").glob("*.py")):
        assert (home / "dag_builder" / name).read_text() == (REPOSITORY / "builder" / "dag_builder" / name).read_text(), (
            f"base/dag-sync-configmap.yaml is out of date for {name}: run npm run gen"
        )

    output = tmp_path / "dags"
    moved = {mount["mountPath"]: str(home), "/opt/airflow/dags": str(output)}
    command = [moved.get(a, a) for a in container["command"]]
    command = [a.replace(mount["mountPath"], str(home)) for a in command]
    source_index = command.index("--source") + 1
    command[source_index] = str(EXAMPLE_SPECS)
    assert command[:3] == ["python3", "-m", "dag_builder"]
    environment = {e["name"]: moved.get(e["value"], e["value"]) for e in container["env"]}
    done = subprocess.run(
        [sys.executable, *command[1:], "--once"],
        cwd=tmp_path,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    settings = json.loads(config_map["data"]["settings.json"])
    assert sorted(p.name for p in output.glob("*.py")) == sorted([f"{settings['defaultDag']}.py", "marketing.py"])
    assert not any(home.rglob("__pycache__")), "PYTHONDONTWRITEBYTECODE keeps the read-only volume untouched"
