"""The airflow.cfg options one Airflow line accepts, read from the release's own wheels.

Usage: python option_table.py OUT.json WHEEL...

The wheels are apache-airflow-core and the providers the apache/airflow image ships, at the versions of
one release (update-option-tables.sh picks and downloads them). Nothing is imported from them: the
options come from ``airflow/config_templates/config.yml`` and each provider's ``get_provider_info()``
(a function returning a literal), the renames from the configuration parser's ``deprecated_options``,
the options Airflow 3 stopped reading from ``CONFIGS_CHANGES`` of ``airflow config lint``, the allowed
values from ``enums_options``, all read as Python syntax trees.
"""

from __future__ import annotations

import ast
import json
import sys
import zipfile
from pathlib import Path

import yaml

PARSER = "airflow/_shared/configuration/parser.py"
CONFIGURATION = "airflow/configuration.py"
CONFIG_CHANGES = "airflow/cli/commands/config_command.py"
CONFIG_YML = "airflow/config_templates/config.yml"


def wheel_name(path: Path) -> tuple[str, str]:
    """(distribution, version) of a wheel file name."""
    distribution, version = path.name.split("-")[:2]
    return distribution.replace("_", "-").lower(), version


def class_attribute(tree: ast.Module, class_name: str, attribute: str) -> ast.expr:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            for item in node.body:
                target = item.target if isinstance(item, ast.AnnAssign) else (item.targets[0] if isinstance(item, ast.Assign) else None)
                if isinstance(target, ast.Name) and target.id == attribute and item.value is not None:
                    return item.value
    raise SystemExit(f"{class_name}.{attribute} not found")


def bound_literals(body: list[ast.stmt]) -> dict[str, object]:
    """Names a module or class body binds to literals (the enums refer to some of them)."""
    out: dict[str, object] = {}
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def option_entries(sections: dict, provider: str | None) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for section, body in (sections or {}).items():
        for option, spec in ((body or {}).get("options") or {}).items():
            entry: dict[str, object] = {"since": str(spec.get("version_added") or "")}
            if spec.get("version_deprecated"):
                entry["deprecated"] = str(spec.get("deprecation_reason") or "").strip()
            if provider:
                entry["provider"] = provider
            out.setdefault(section, {})[option] = entry
    return out


def provider_config(wheel: zipfile.ZipFile) -> dict:
    source = next(n for n in wheel.namelist() if n.endswith("/get_provider_info.py"))
    tree = ast.parse(wheel.read(source))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_provider_info")
    returned = next(n for n in ast.walk(function) if isinstance(n, ast.Return))
    return ast.literal_eval(returned.value).get("config") or {}


def parameter(call: ast.Call) -> str:
    """`section.option` of a ConfigParameter(...) call, its fields given by position or by keyword."""
    values = [ast.literal_eval(a) for a in call.args] + [ast.literal_eval(k.value) for k in sorted(call.keywords, key=lambda k: k.arg != "section")]
    return ".".join(values)


def config_changes(tree: ast.Module) -> tuple[dict[str, dict], dict[str, str]]:
    """Renamed options (old -> new) and removed options (-> suggestion) that Airflow 3 no longer reads."""
    renamed: dict[str, dict] = {}
    removed: dict[str, str] = {}
    changes = next(
        n.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "CONFIGS_CHANGES"
    )
    for call in changes.elts:
        args = {k.arg: k.value for k in call.keywords}
        old = parameter(args["config"])
        flag = lambda name, default: ast.literal_eval(args[name]) if name in args else default  # noqa: E731
        # A default that changed, an option kept, or one dropped only while it holds an old value: still read.
        if flag("default_change", False) or not flag("was_removed", True) or "remove_if_equals" in args:
            continue
        if "renamed_to" in args and isinstance(args["renamed_to"], ast.Call):
            renamed[old] = {"new": parameter(args["renamed_to"]), "oldNameStillRead": False}
        else:
            suggestion = args.get("suggestion")
            removed[old] = " ".join(str(ast.literal_eval(suggestion)).split()) if suggestion is not None else ""
    return renamed, removed


def final_names(renamed: dict[str, dict], sections: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """
    Each rename pointed at the name read today: Airflow follows one step only, so an old name whose new one
    was renamed again is no longer read, and a rename whose end no longer exists is a removal (None).
    """
    exists = lambda key: key.split(".", 1)[1] in sections.get(key.split(".", 1)[0], {})  # noqa: E731
    out: dict[str, dict] = {}
    for old, entry in renamed.items():
        new, steps = entry["new"], 1
        while new in renamed and steps < 10:
            new, steps = renamed[new]["new"], steps + 1
        if not exists(new):
            continue
        out[old] = {**entry, "new": new, "oldNameStillRead": entry["oldNameStillRead"] and steps == 1}
    return out


def enums(tree: ast.Module) -> dict[str, list[str]]:
    parser_class = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "AirflowConfigParser")
    literals = {**bound_literals(tree.body), **bound_literals(parser_class.body)}
    node = class_attribute(tree, "AirflowConfigParser", "enums_options")
    out: dict[str, list[str]] = {}
    for key, value in zip(node.keys, node.values):
        section, option = ast.literal_eval(key)
        try:
            values = ast.literal_eval(value)
        except ValueError:
            if isinstance(value, ast.Name) and value.id in literals:
                values = literals[value.id]
            elif isinstance(value, ast.List) and all(isinstance(e, (ast.Starred, ast.Constant)) for e in value.elts):
                values = [v for e in value.elts for v in (literals[e.value.id] if isinstance(e, ast.Starred) else [e.value])]
            else:
                continue  # computed at run time (the weight rules): not checked
        out[f"{section}.{option}"] = [str(v) for v in values]
    return out


def main() -> None:
    out, wheels = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    packages = dict(sorted(wheel_name(w) for w in wheels))
    core = next(w for w in wheels if wheel_name(w)[0] == "apache-airflow-core")
    with zipfile.ZipFile(core) as z:
        sections = option_entries(yaml.safe_load(z.read(CONFIG_YML)), None)
        parser = ast.parse(z.read(PARSER))
        configuration = ast.parse(z.read(CONFIGURATION))
        renamed, removed = config_changes(ast.parse(z.read(CONFIG_CHANGES)))
    for wheel in wheels:
        distribution = wheel_name(wheel)[0]
        if not distribution.startswith("apache-airflow-providers-"):
            continue
        with zipfile.ZipFile(wheel) as z:
            for section, options in option_entries(provider_config(z), distribution.removeprefix("apache-airflow-providers-")).items():
                for option, entry in options.items():
                    sections.setdefault(section, {}).setdefault(option, entry)
    # Old names the parser still reads, with a deprecation warning: (new) -> (old section, old option, since).
    for key, value in zip(*(lambda d: (d.keys, d.values))(class_attribute(parser, "AirflowConfigParser", "deprecated_options"))):
        new, (old_section, old_option, since) = ".".join(ast.literal_eval(key)), ast.literal_eval(value)
        renamed[f"{old_section}.{old_option}"] = {"new": new, "since": since, "oldNameStillRead": True}
    gone = {old: "" for old in renamed}
    renamed = final_names(renamed, sections)
    removed = {**{k: v for k, v in gone.items() if k not in renamed}, **removed}
    defined = {f"{section}.{option}" for section, options in sections.items() for option in options}
    clash = sorted(defined & (set(removed) | {k for k, v in renamed.items() if not v["oldNameStillRead"]}))
    if clash:
        raise SystemExit(f"options both defined and no longer read: {clash}: read CONFIGS_CHANGES again")
    deprecated_sections = ast.literal_eval(class_attribute(parser, "AirflowConfigParser", "deprecated_sections"))
    table = {
        "airflow": packages["apache-airflow-core"],
        "line": ".".join(packages["apache-airflow-core"].split(".")[:2]),
        "packages": packages,
        "sections": {s: dict(sorted(o.items())) for s, o in sorted(sections.items())},
        "renamed": dict(sorted(renamed.items())),
        "removed": dict(sorted((k, v) for k, v in removed.items() if k not in renamed)),
        "removedSections": {old: new for new, (old, _since) in sorted(deprecated_sections.items())},
        "enums": dict(sorted(enums(configuration).items())),
    }
    out.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
