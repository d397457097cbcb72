# The two set-up commands of the README: `make demo` and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt bench soak clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The bundled demo: its own origin, example functions and a seeded KVS on three POPs, a short
# tour of requests, then it keeps serving on 127.0.0.1:8080 (admin 8081) until Ctrl-C.
demo: $(STAMP)
	$(BIN)/edgesim serve

# The suite also measures the cookbook functions' own coverage (functions/): it must stay at 100%
# of lines and branch arms (docs/testing.md, "Coverage of function code"); the xdist workers'
# counts are combined before the gate. It runs on every CPU (pytest-xdist `-n logical`: one worker
# per logical CPU, two on a 2-vCPU CI machine even where psutil counts one core; `make test JOBS=0`
# runs it in one process); worksteal balances the reliability suite's fixed-length runs, which
# tests/conftest.py puts first. Budget: under 10 minutes from a fresh clone on 2 cores.
JOBS ?= logical
test: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -n $(JOBS) --dist worksteal --edgesim-cov=functions --edgesim-cov-report=term-missing --edgesim-cov-fail-under=100

# The reliability suite at full length: a 10-minute soak, 1,000 SIGKILL trials, large fuzz
# budgets; and every hypothesis property of the suite (marker `hypothesis`, which Hypothesis
# gives them) with the soak profile's 2,000 examples instead of make test's 100. One process:
# the soak measures serve's memory and latency. It prints its figures at the end
# (docs/reliability.md records them).
soak: $(STAMP)
	EDGESIM_SOAK=long HYPOTHESIS_PROFILE=soak $(BIN)/pytest -m "soak or hypothesis" -p no:cacheprovider -rA

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/runtime.py
	$(BIN)/python benchmarks/kvs.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python benchmarks/runaway.py
	$(BIN)/python benchmarks/lambda_edge.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
