# Two entry points for a fresh machine: `make run` (the Iran scenario) and `make test`.
# Each creates .venv with a Python >= 3.12 found by scripts/find-python.sh.
# `make test` also sets up what the browser tests of `hedgesim view` need (tests/test_view_browser.py):
# Debian's chromium (apt-get, as root) and Solara's front-end in the venv's cache (npm pack; Solara
# would fetch it from a CDN that is not reachable here). Both are done once: a second run needs no network.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
ASSETS  := $(VENV)/.solara-assets
CHROMIUM ?= /usr/bin/chromium
OUT     ?= results/iran_2021

.PHONY: run test lint bench clean chromium

$(STAMP): pyproject.toml
	@if ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  rm -rf $(VENV); PYBIN=$$(sh scripts/find-python.sh) || exit 1; \
	  echo "creating $(VENV) with $$PYBIN"; "$$PYBIN" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,view]'
	@touch $(STAMP)

# Solara's browser side (scripts/solara_assets.py: exact versions, idempotent), fetched with npm.
$(ASSETS): $(STAMP) scripts/solara_assets.py
	@command -v npm >/dev/null || apt-get install -y -q npm || \
	  (apt-get update -q && apt-get install -y -q npm) || \
	  echo "warning: npm missing and could not be installed (apt-get install -y npm)"
	$(PY) scripts/solara_assets.py
	@touch $(ASSETS)

# The browser the view's tests drive; if it cannot be installed they FAIL saying so (no skip).
chromium:
	@test -x $(CHROMIUM) || apt-get install -y -q chromium || \
	  (apt-get update -q && apt-get install -y -q chromium) || \
	  echo "warning: $(CHROMIUM) missing and apt-get could not install it: the browser tests will fail"

run: $(STAMP)
	$(VENV)/bin/hedgesim run scenarios/iran_2021.yaml --out $(OUT) --force --ablate all \
	  --ablate historical_distrust@IRN,nonalignment_doctrine@IRN,expanding_options@IRN,partner_hedging@IRN,prioritizing_interests@IRN

test: $(STAMP) $(ASSETS) chromium
	$(VENV)/bin/ruff check .
	HEDGESIM_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -n 2 -q -rs tests
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
