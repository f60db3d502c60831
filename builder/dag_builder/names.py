"""Which ids Airflow accepts for DAGs and tasks (the rule of airflow.sdk's validate_key, and Airflow 3.3's
refusal of ``..`` in ids unless ``[core] allow_double_dot_in_ids``, a guard against path traversal)."""
from __future__ import annotations

import re

AIRFLOW_KEY = re.compile(r"^[\w.-]+$")
AIRFLOW_KEY_MAX_LENGTH = 250


def airflow_id_error(value: str) -> str | None:
    """Why Airflow would refuse `value` as a DAG or task id, or None when it accepts it."""
    if len(value) > AIRFLOW_KEY_MAX_LENGTH:
        return f"{value[:40]}... is {len(value)} characters long; Airflow accepts at most {AIRFLOW_KEY_MAX_LENGTH}"
    if not AIRFLOW_KEY.match(value):
        return f'"{value}" is not an id Airflow accepts: use letters, digits, "_", "-" and "." only'
    if ".." in value:
        return f'"{value}" has "..", which Airflow 3.3 refuses in ids (a guard against path traversal): use single dots'
    return None
