#!/usr/bin/env bash
# Re-resolve requirements.in into requirements.lock (exact versions, with hashes) with uv from PyPI.
# Usage: test/aws/update-lock.sh
set -euo pipefail
cd "$(dirname "$0")"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools"
"$tools/bin/pip" install --quiet uv
"$tools/bin/uv" pip compile requirements.in --generate-hashes --python-version 3.11 \
  --custom-compile-command "test/aws/update-lock.sh" -o requirements.lock
