# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
# TF=cpu (default) installs the CPU TensorFlow wheel; TF=gpu the full wheel with CUDA.
PYTHON ?= python3
TF ?= cpu
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TF)

export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow

SOURCES := resblocks registry recipes tests docs

.PHONY: run test lint test-slow bench docs setup clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(TF),test,export]"
	touch $(STAMP)

setup: $(STAMP)

## The main job on a small embedded default: no downloads beyond packages.
run: $(STAMP)
	$(BIN)/python -m registry demo

## What CI runs: lint, the import-layer contract (setup.cfg), the whole test suite.
test: lint $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

## ruff (pyproject.toml) and the layers of docs/architecture.md (lint-imports, setup.cfg).
lint: $(STAMP)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/lint-imports

## Long checks kept out of `make test`.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

## Regenerate the generated docs: the committed diagrams and the block reference.
docs: $(STAMP)
	$(BIN)/python -m registry show resnet18 --diagram docs/diagrams/resnet18.svg
	$(BIN)/python -m registry show inception_resnet_v2 --diagram docs/diagrams/inception_resnet_v2.svg
	$(BIN)/python -m registry reference --output docs/reference/blocks.md

## Speed against keras.applications and of the input pipeline (about an hour on
## 2 cores; BENCH_ARGS=--quick for a few); updates docs/performance.md. Then
## ResNeXt-50 against ResNet-50 per backend (JAX where it is installed).
bench: $(STAMP)
	$(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python tests/benchmarks/bench_resnext.py

clean:
	rm -rf $(VENV) runs .pytest_cache
