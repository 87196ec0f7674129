# Two entry points for a fresh machine: `make run` (the Iran scenario) and `make test`.
# Each creates .venv with a Python >= 3.12 found by scripts/find-python.sh.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
OUT     ?= results/iran_2021

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@if ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  rm -rf $(VENV); PYBIN=$$(sh scripts/find-python.sh) || exit 1; \
	  echo "creating $(VENV) with $$PYBIN"; "$$PYBIN" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hedgesim run scenarios/iran_2021.yaml --out $(OUT) --force --ablate all \
	  --ablate historical_distrust@IRN,nonalignment_doctrine@IRN,expanding_options@IRN,partner_hedging@IRN,prioritizing_interests@IRN

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 -q tests
	HEDGESIM_NOTEBOOK_SIZE=small $(PY) -m pytest -q --nbmake notebooks

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check sim tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_run.py
	$(PY) benchmarks/bench_landscape.py
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_loader.py

clean:
	rm -rf $(VENV) results .pytest_cache
