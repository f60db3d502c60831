#!/usr/bin/env bash
# Re-resolve NAME.in into NAME.lock (exact versions, with hashes) with uv from PyPI: requirements for the example's
# line, requirements-<line> for the other supported one. Dependencies are taken as they stood when apache-airflow
# AIRFLOW_VERSION was published, the way the release's constraints (and so the image) pin them.
# Usage: test/airflow/update-lock.sh 3.3.2 [requirements]; test/airflow/update-lock.sh 3.2.2 requirements-3.2
set -euo pipefail
cd "$(dirname "$0")"
version="${1:?usage: update-lock.sh AIRFLOW_VERSION [NAME]}"
name="${2:-requirements}"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install --quiet uv
published="$(curl -fsS -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/apache-airflow/ |
  python3 -c "
import json, sys, datetime
times = [f['upload-time'] for f in json.load(sys.stdin)['files'] if f['filename'].startswith('apache_airflow-$version') and 'rc' not in f['filename']]
last = max(datetime.datetime.fromisoformat(t.replace('Z', '+00:00')) for t in times)
print((last + datetime.timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ'))")"
sed -i -E "s/^apache-airflow==.*/apache-airflow==$version/" "$name.in"
"$tools/bin/uv" pip compile "$name.in" --upgrade --generate-hashes --python-version 3.11 \
  --exclude-newer "$published" --custom-compile-command "test/airflow/update-lock.sh $version $name" -o "$name.lock"
