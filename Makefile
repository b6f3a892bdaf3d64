# Plein: two commands for a new user, `make demo` and `make test`.
# Everything is installed into .venv from pyproject.toml, pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data
PORT   ?= 8000
DEMO_CLIENTS ?= 5000
export PLEIN_DATA_DIR := $(abspath $(DATA))

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make demo: build the demo region, train, optimise and serve on localhost:$(PORT)
demo: install
	$(BIN)/plein demo --clients $(DEMO_CLIENTS) --seed 42 --port $(PORT)

## make test: run the whole test suite
test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

## make bench: run every benchmark and print the tables (see bench/README.md)
bench: install
	$(BIN)/plein bench all

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache
