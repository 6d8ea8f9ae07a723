# `make demo` and `make test` each create or refresh the local virtual
# environment (.venv) first, so a fresh clone needs nothing else.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BACKENDS := tensorflow jax torch
EXTRAS := tensorflow,jax,torch,datasets,plot,test,docs

.PHONY: venv test test-backends lint docs demo examples clean

$(STAMP): pyproject.toml constraints-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints-test.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

# Lint, the docs build, then the suite once per backend, each in its own
# process; fails if any of them fails.
test: lint docs test-backends

test-backends: $(STAMP)
	@status=0; \
	for backend in $(BACKENDS); do \
		echo "=== pytest, KERAS_BACKEND=$$backend ==="; \
		KERAS_BACKEND=$$backend $(PY) -m pytest -q -p no:cacheprovider -n 2 || status=1; \
	done; \
	exit $$status

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The build exactly as a user runs it: `mkdocs build` in strict mode (set in
# mkdocs.yml), so any warning fails it; the site goes to build/site.
# NO_MKDOCS_2_WARNING only silences Material's end-of-life banner.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

demo: $(STAMP)
	KERAS_BACKEND=$${KERAS_BACKEND:-jax} $(PY) examples/demo.py

# Every tutorial at full size on the committed CIFAR-10 subset (the suite runs
# them at toy size); pictures go to the system's temporary folder.
TUTORIALS := feature_losses kernel_regularizers fixed_heads fine_tune_keras_hub
examples: $(STAMP)
	@for tutorial in $(TUTORIALS); do \
		KERAS_BACKEND=$${KERAS_BACKEND:-jax} $(PY) examples/$$tutorial.py || exit 1; \
	done

clean:
	rm -rf $(VENV) build site .pytest_cache .ruff_cache
