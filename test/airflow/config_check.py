"""Loads Airflow's configuration the way a component does and reports what Airflow makes of it.

Reads airflow.cfg from $AIRFLOW_HOME and the AIRFLOW__* environment. Prints one JSON object:
  warnings:   warnings and WARNING+ log records raised by Airflow's code while loading the config
  unknown:    options (file or environment) that neither Airflow nor an installed provider defines
  deprecated: options or sections Airflow reads only under an old name
  values:     {"section.option": value Airflow reads} for every option set in the file or environment
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import sys
import warnings


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("airflow"):
            self.records.append(f"{record.name}: {record.getMessage()}")


def _set_options() -> list[tuple[str, str]]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.cfg"))
    found = [(s.lower(), o.lower()) for s in parser.sections() for o in parser.options(s)]
    for name in os.environ:
        if name.startswith("AIRFLOW__") and name.count("__") >= 2:
            _, section, option = name.lower().split("__", 2)
            found.append((section, option))
    return sorted(set(found))


def _defined(description: dict, section: str, option: str) -> bool:
    known = description.get(section, {}).get("options", {})
    if option in known:
        return True
    # `<option>_cmd` / `<option>_secret` read a sensitive option from a command or a secrets backend
    base, _, suffix = option.rpartition("_")
    return suffix in ("cmd", "secret") and base in known


def main() -> int:
    collected = _Collect()
    logging.getLogger().addHandler(collected)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from airflow.configuration import conf

        description = conf.configuration_description
        options = _set_options()
        values = {f"{s}.{o}": conf.get(s, o, fallback=None) for s, o in options}
    airflow_warnings = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if "/airflow/" in w.filename.replace("\\", "/") or "airflow" in str(w.message).lower() and "config" in str(w.message).lower()
    ]
    deprecated_names = {(old_s, old_o): f"{new_s}.{new_o}" for (new_s, new_o), (old_s, old_o, _v) in conf.deprecated_options.items()}
    deprecated_sections = {old: new for new, (old, _v) in conf.deprecated_sections.items()}
    unknown: list[str] = []
    deprecated: list[str] = []
    for section, option in options:
        if (section, option) in deprecated_names:
            deprecated.append(f"[{section}] {option} (now {deprecated_names[(section, option)]})")
        elif section in deprecated_sections:
            deprecated.append(f"[{section}] {option} (section now [{deprecated_sections[section]}])")
        elif not _defined(description, section, option):
            unknown.append(f"[{section}] {option}")
    # One line of its own, marked: Airflow may log to the same stream before and after it (3.3 does at exit).
    report = {"warnings": airflow_warnings + collected.records, "unknown": unknown, "deprecated": deprecated, "values": values}
    print(f"{REPORT_MARK}{json.dumps(report)}", flush=True)
    return 0


REPORT_MARK = "config-check-report: "

if __name__ == "__main__":
    sys.exit(main())
