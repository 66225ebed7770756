# The two commands of the README: `make demo` and `make test`. Each sets up
# everything it needs on a fresh machine (a virtualenv in .venv with the pinned set).
#
# Python 3.11 to 3.13: the newest of python3.13, python3.12, python3.11 that runs here
# (a pyenv shim of a version that is not active does not), or PYTHON=... to choose.
# VENV=... keeps a second virtualenv beside the first (CI: one per Python).
SUPPORTED_PYTHONS := 3.13 3.12 3.11
PYTHON ?= $(firstword $(foreach v,$(SUPPORTED_PYTHONS),$(shell python$(v) -c "" >/dev/null 2>&1 && echo python$(v))))
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=
# The demo's flow runs go to a Prefect database of their own; `make ui` opens it.
DEMO_PREFECT_HOME ?= $(CURDIR)/.zhicheng/prefect
UI_PORT ?= 4200
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test install clean bench lint ui

define NO_PYTHON
zhicheng needs Python 3.11, 3.12 or 3.13. Install one, then run make again:
  Debian 13, Ubuntu 24.04:   sudo apt install python3 python3-venv
  Ubuntu 22.04:              sudo apt install python3.11 python3.11-venv
  macOS (Homebrew):          brew install python@3.13
  pyenv:                     pyenv install 3.13 && pyenv global 3.13
or name an interpreter:      make $(or $(MAKECMDGOALS),demo) PYTHON=/path/to/python3.12
endef
export NO_PYTHON

# A virtualenv made by another Python (a new PYTHON, an upgrade) is made afresh.
$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then echo "None of python3.13, python3.12, python3.11 runs here." >&2; \
	   echo "$$NO_PYTHON" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null || \
	 { echo "PYTHON=$(PYTHON) is not Python 3.11 to 3.13, or does not run." >&2; echo "$$NO_PYTHON" >&2; exit 1; }
	@want=$$($(PYTHON) -c 'import sys; print(sys.version)'); \
	 if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print(sys.version)' 2>/dev/null)" != "$$want" ]; then \
	   echo "$(VENV) was made by another Python; making it afresh with $(PYTHON)"; rm -rf $(VENV); fi
	@$(PYTHON) -m venv $(VENV) || { echo "$(PYTHON) cannot make a virtualenv: install its venv module (e.g. sudo apt install python3-venv)" >&2; exit 1; }
	$(BIN)/pip install --quiet --upgrade "pip>=24" "setuptools>=75" wheel
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	PREFECT_HOME=$(DEMO_PREFECT_HOME) $(BIN)/zhicheng demo $(DEMO_ARGS)

# The demo's runs, artifacts and deployments in the Prefect UI (docs/demo.md); Ctrl-C stops it.
ui: $(STAMP)
	PREFECT_HOME=$(DEMO_PREFECT_HOME) $(BIN)/zhicheng ui --port $(UI_PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The architecture checks alone (make test runs them too): import contracts, ruff,
# mypy on the product, commit subjects (tests/architecture).
lint: $(STAMP)
	$(BIN)/python -m pytest tests/architecture

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .zhicheng
