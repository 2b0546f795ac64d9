# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	 { echo "driftbot needs Python 3.11 or newer; set PYTHON=python3.x"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	@echo "Installing driftbot and its test tools into $(VENV) (log: $(VENV)/install.log) ..."
	@$(BIN)/python -m pip install --upgrade pip > $(VENV)/install.log 2>&1 && \
	 $(BIN)/python -m pip install -e '.[test]' >> $(VENV)/install.log 2>&1 || \
	 { tail -n 40 $(VENV)/install.log; echo "Install failed; the full log is $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

demo: $(STAMP)
	@$(BIN)/driftbot report examples/demo-repo --format markdown

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf $(VENV) build *.egg-info
