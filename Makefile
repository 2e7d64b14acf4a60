# `make demo` and `make test` work on a fresh machine: each creates .venv if missing and installs
# the package with the exact versions in constraints.txt, then runs.
VENV := .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install demo test docs clean

install: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --constraint constraints.txt --editable '.[test]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	rm -rf runs/demo  # a fresh run each time (a workdir with checkpoints only continues with --resume)
	$(VENV)/bin/irnn-jax train --config adding:demo --workdir runs/demo

# Test processes (pytest-xdist): CI's machine has 2 cores; `make test TEST_WORKERS=0` runs in one.
TEST_WORKERS ?= 2

test: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest -q --durations=30 -n $(TEST_WORKERS)

# The API reference (Sphinx, autodoc, MyST), warnings as errors; tests/test_docs.py builds it too.
docs: $(INSTALLED)
	$(VENV)/bin/sphinx-build -E -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) runs .pytest_cache docs/_build
