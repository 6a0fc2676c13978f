#!/usr/bin/env bash
# Recompute every R reference fixture (tests/fixtures/r/*.json) from the repository root.
# Needs R with psych, effectsize, lme4, lmerTest, lavaan, GPArotation and jsonlite, e.g. on Debian:
#   apt-get install r-base-core r-cran-psych r-cran-effectsize r-cran-lme4 r-cran-lmertest \
#                   r-cran-lavaan r-cran-gparotation r-cran-jsonlite
# CI does not run this: the fixtures are committed, so tests need no R.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
command -v Rscript >/dev/null || { echo "Rscript not found: install R (see header of $0)" >&2; exit 1; }
# Python scripts that write the datasets some R scripts read.
for data_script in tests/r/*_data.py; do
  echo "== $data_script"
  "$PY" "$data_script"
done
for r_script in tests/r/*.R; do
  echo "== $r_script"
  Rscript "$r_script"
done
git status --short tests/fixtures
