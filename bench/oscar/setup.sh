#!/bin/sh
# Creates bench/oscar/.venv with django-oscar (bench/oscar/requirements.txt), once per
# change of the requirements. Exits non-zero, saying why, if it cannot be built.
set -e
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3.11}"
STAMP=.venv/.installed-stamp
if [ -f "$STAMP" ] && [ "$STAMP" -nt requirements.txt ]; then
    exit 0
fi
echo "bench/oscar: building .venv with $PYTHON (django-oscar, requirements.txt)" >&2
"$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -r requirements.txt
touch "$STAMP"
