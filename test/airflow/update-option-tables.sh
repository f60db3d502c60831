#!/usr/bin/env bash
# Writes generator/config/airflow-options/<line>.json: the airflow.cfg options Airflow AIRFLOW_VERSION and the
# providers its apache/airflow image ships accept, read from their wheels by option_table.py. The providers are
# taken at their latest release before AIRFLOW_VERSION was published, the way the release's constraints (and so
# the image) pin them. Usage: test/airflow/update-option-tables.sh 3.3.2
set -euo pipefail
cd "$(dirname "$0")"
version="${1:?usage: update-option-tables.sh AIRFLOW_VERSION}"
line="$(echo "$version" | cut -d. -f1,2)"
out="../../generator/config/airflow-options/$line.json"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet uv pyyaml
published="$(curl -fsS -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/apache-airflow-core/ |
  python3 -c "
import json, sys, datetime
times = [f['upload-time'] for f in json.load(sys.stdin)['files'] if f['filename'].startswith('apache_airflow_core-$version-')]
last = max(datetime.datetime.fromisoformat(t.replace('Z', '+00:00')) for t in times)
print((last + datetime.timedelta(minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ'))")"
# The providers of the image's AIRFLOW_EXTRAS (apache/airflow Dockerfile) and those every installation has.
providers="amazon celery cncf-kubernetes common-compat common-io common-messaging common-sql docker elasticsearch fab ftp
  git google grpc hashicorp http imap microsoft-azure mysql odbc openlineage postgres redis sendgrid sftp slack smtp
  snowflake sqlite ssh standard"
{ echo "apache-airflow-core==$version"; for p in $providers; do echo "apache-airflow-providers-$p"; done; } > "$work/wanted.in"
"$work/tools/bin/uv" pip compile "$work/wanted.in" --no-deps --no-header --no-annotate --python-version 3.12 \
  --exclude-newer "$published" -o "$work/pinned.txt" --quiet
"$work/tools/bin/pip" download --quiet --no-deps --only-binary=:all: -d "$work/wheels" -r "$work/pinned.txt"
mkdir -p "$(dirname "$out")"
"$work/tools/bin/python" option_table.py "$out" "$work"/wheels/*.whl
echo "wrote $out from $(ls "$work"/wheels | wc -l) wheels (as published by $published)"
