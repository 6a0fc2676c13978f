# ipo_research: the targets people and CI both run.  `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_RAW := data/raw/demo
KEY_FILE ?= $(HOME)/.config/ipo_research/demo.key
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
.PHONY: help install demo demo-data test lint typecheck lab bench r-fixtures clean-demo

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-12s %s\n",$$1,$$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with its test tools

$(KEY_FILE): | $(STAMP)
	$(BIN)/ipo-research keygen $(KEY_FILE)

$(DEMO_RAW)/MANIFEST.json: | $(STAMP)
	$(BIN)/ipo-research synth --out $(DEMO_RAW)

DEMO_PROCESSED := data/processed/demo/audit.csv
$(DEMO_PROCESSED): $(DEMO_RAW)/MANIFEST.json projects/demo.yaml $(KEY_FILE) $(STAMP)
	$(BIN)/ipo-research clean projects/demo.yaml --key-file $(KEY_FILE)

demo-data: $(DEMO_PROCESSED) ## generate and clean the synthetic demo data (data/raw/demo -> data/processed/demo)

demo: $(DEMO_PROCESSED) ## set up, generate demo data, clean it, build the HTML reports
	$(BIN)/ipo-research reports build plans/demo.yaml
	@echo ""
	@echo "Reports are ready: open reports/index.html (or any page under reports/) in a browser."

test: $(STAMP) $(DEMO_PROCESSED) lint ## set up and run the whole test suite (lint, types, unit, R agreement, notebooks)
	$(BIN)/python -m pytest -n 2 --dist loadfile --doctest-modules src/ipo_research tests
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

lab: $(STAMP) ## open JupyterLab on notebooks/
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP) ## run the benchmarks (side by side with R / papermill / pandas where available)
	$(BIN)/python -m benchmarks

r-fixtures: ## recompute the R reference values in tests/fixtures/r (needs R; see tests/r/README.md)
	bash tests/r/run_all.sh

clean-demo: ## remove generated demo data and reports
	rm -rf $(DEMO_RAW) data/processed/demo reports/* .ipo_cache
