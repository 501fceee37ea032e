# looptrace — `make run` to try it, `make test` to check everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: run test install lint format typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade uv

# --compile-bytecode and compileall: start-up reads .pyc files even where the environment sets
# PYTHONDONTWRITEBYTECODE (the server starts in ~1.3 s instead of ~2.4 s on our 2-core VM).
$(STAMP): $(BIN)/python pyproject.toml
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

# The ingest hot path (span model, OTLP wire reader, normalizer, Arrow columns) compiled by mypyc as one
# group (looptrace/_native.py); rebuilt when one of its sources changes (the script keeps a current build).
# scripts/build_native.py explains the fallback to pure Python (LOOPTRACE_NATIVE=0 skips it).
NATIVE_SOURCES := src/looptrace/model.py src/looptrace/otlp/_protobuf.py src/looptrace/ingest/normalize.py \
	src/looptrace/storage/duckdb/_arrow.py src/looptrace/storage/duckdb/_summary.py \
	src/looptrace/storage/duckdb/_prepared.py
NATIVE := src/looptrace/_compiled/SOURCES.sha256
$(NATIVE): $(STAMP) $(NATIVE_SOURCES) src/looptrace/_native.py scripts/build_native.py
	$(BIN)/python scripts/build_native.py

install: $(STAMP) $(NATIVE)  ## create .venv and install looptrace with every extra the tests need

run: install  ## start `looptrace serve` (data in ./.looptrace) and load the demo traces the first time
	scripts/run-with-demo.sh

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format: install
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

typecheck: install
	$(BIN)/pyright

unit: install
	$(BIN)/pytest -q || [ $$? -eq 5 ]

test: lint typecheck unit  ## everything CI runs: ruff, pyright, pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/looptrace/_compiled src/looptrace/otlp/_protobuf_c* src/looptrace/ingest/_normalize_c*
