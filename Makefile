# A virtual environment (.venv/ by default) holds the project, its instrumentors and the test tools.
# VENV, PYTHON and CONSTRAINTS select which one: `make test PYTHON=python3.12 VENV=.venv-3.12`.
PYTHON ?= python3
VENV   ?= .venv
# A pip constraints file pinning dependencies, e.g. requirements/oldest.txt (see test-oldest).
CONSTRAINTS ?=
BIN    := $(VENV)/bin
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# Named for the interpreter's version, so that another PYTHON rebuilds the environment instead of reusing it.
STAMP  := $(VENV)/.installed-$(PYTHON_VERSION)
INSTRUMENTORS := $(wildcard instrumentors/*/pyproject.toml)
# The local stand-in for the providers' HTTP APIs: the demo, examples, tests and benchmarks talk to it.
STANDIN       := standin/pyproject.toml

.PHONY: setup test test-fast lint demo soak clean test-oldest test-latest test-pythons test-matrix test-other-pythons backends

setup: $(STAMP)

$(STAMP): pyproject.toml $(INSTRUMENTORS) $(STANDIN) $(CONSTRAINTS)
	@test -n "$(PYTHON_VERSION)" || { echo "$(PYTHON) does not run: set PYTHON to a Python 3.11+ interpreter" >&2; exit 1; }
	$(PYTHON) -m venv $(if $(wildcard $(STAMP)),,--clear) $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,demo]" $(foreach p,$(INSTRUMENTORS) $(STANDIN),-e $(dir $(p))) \
		$(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
	touch $(STAMP)

# Everything but the soak tests (pyproject's addopts); test-fast skips the `slow` ones too (processes, collectors, load).
test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: setup
	$(BIN)/ruff check src instrumentors standin tests backends bench
	$(BIN)/mypy --strict src instrumentors/*/src standin/src tests backends/*.py

# The suite against the oldest OpenTelemetry packages pyproject allows (its floors, pinned in
# requirements/oldest.txt), and against the newest it allows: an environment made afresh each time
# (as .venv/ is in CI's fresh clone) resolves to them.
test-oldest:
	$(MAKE) test VENV=.venv-oldest CONSTRAINTS=requirements/oldest.txt

test-latest:
	rm -rf .venv-latest
	$(MAKE) test VENV=.venv-latest

# The suite on every supported Python found on this machine, each in .venv-3.X/ (PYTHON's own
# version in .venv/, by `make test`). A 3.X is found as python3.X on PATH, else as a pyenv-installed
# version that pyenv's shims do not select.
SUPPORTED_PYTHONS := 3.11 3.12 3.13 3.14
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null)
find_python = $(firstword $(foreach p,python$(1) $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)),\
	$(shell $(p) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(1))))' 2>/dev/null && echo $(p))))
comma := ,
FOUND_PYTHONS = $(foreach v,$(SUPPORTED_PYTHONS),$(if $(call find_python,$(v)),$(v)))

test-pythons: test $(foreach v,$(filter-out $(PYTHON_VERSION),$(FOUND_PYTHONS)),test-python$(v))
	@echo "tested on Python $(FOUND_PYTHONS) (not found: $(filter-out $(FOUND_PYTHONS),$(SUPPORTED_PYTHONS)))"

# CI's matrix beside `make test` (the default Python, the newest releases): the whole suite with the
# oldest OpenTelemetry releases pyproject allows, then the whole suite on every other supported
# Python found (test-pythons without repeating `make test`). A Python this machine lacks is
# reported and skipped. Two prerequisites, not a recipe after test-oldest: under `make -k` (CI) a
# failing leg does not keep the other from running.
test-matrix: test-oldest test-other-pythons

test-other-pythons:
	@for v in $(filter-out $(PYTHON_VERSION),$(SUPPORTED_PYTHONS)); do \
		p=$$($(MAKE) -s --no-print-directory which-python$$v 2>/dev/null); \
		if [ -n "$$p" ]; then $(MAKE) test PYTHON=$$p VENV=.venv-$$v || status=1; \
		else echo "SKIPPED: Python $$v not found (no python$$v on PATH nor in pyenv)"; fi; \
	done; exit $${status:-0}

which-python%:
	@echo $(call find_python,$*)

test-python%:
	@test -n "$(call find_python,$*)" || { echo "Python $* not found: no python$* on PATH nor in pyenv" >&2; exit 1; }
	$(MAKE) test PYTHON=$(call find_python,$*) VENV=.venv-$*

demo: setup
	$(BIN)/agentops-otel demo

soak: setup
	$(BIN)/python -m pytest -q -m soak

clean:
	rm -rf .venv .venv-* .pytest_cache .mypy_cache .ruff_cache $(PHOENIX_VENV)

# The demo's sessions sent to a real Arize Phoenix (from PyPI, in its own environment: it is never a
# dependency of the product) and checked through its GraphQL API: backends/phoenix_check.py. Not
# part of `make test`: the first run installs Phoenix (~850 MB).
PHOENIX_VENV  := backends/.venv-phoenix
PHOENIX_STAMP := $(PHOENIX_VENV)/.installed

$(PHOENIX_STAMP): backends/requirements-phoenix.txt
	$(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PHOENIX_VENV)/bin/python -m pip install --quiet -r backends/requirements-phoenix.txt
	touch $(PHOENIX_STAMP)

backends: setup $(PHOENIX_STAMP)
	$(BIN)/python backends/phoenix_check.py --phoenix $(PHOENIX_VENV)/bin/phoenix --demo $(BIN)/agentops-otel

# Benchmarks against the peer OpenAI instrumentations, in their own environment:
# bench/.venv is never a runtime or test dependency of the product.
BENCH_VENV  := bench/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: bench bench-quick bench-instructions bench-cold-start bench-cold-start-instructions

$(BENCH_STAMP): bench/requirements.txt pyproject.toml $(INSTRUMENTORS) $(STANDIN)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py --update-readme

bench-quick: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py --quick --out $(BENCH_VENV)/quick

# Instructions per call under valgrind's cachegrind (needs valgrind; ~15 minutes on an idle machine): bench/instructions.py
bench-instructions: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/instructions.py

# Start-up CPU of fresh processes, bare / init() / opentelemetry-instrument, beside the peers (~10
# minutes; builds one environment per contestant under bench/.venv-cold/ first): bench/cold_start.py
bench-cold-start: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/cold_start.py --update-readme

# The same jobs' instructions under cachegrind, which do not move with the machine's load (needs
# valgrind; ~20 minutes): the judge of the cold-start targets on a shared machine
bench-cold-start-instructions: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/cold_start.py --instructions --update-readme
