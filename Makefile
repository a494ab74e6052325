# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
# TF=cpu (default) installs the CPU TensorFlow wheel; TF=gpu the full wheel with CUDA.
PYTHON ?= python3
TF ?= cpu
VENV := .venv
BIN := $(VENV)/bin
# Two levels of one .venv: `make run` installs only what the demo needs
# (TensorFlow, Keras, the project, scikit-learn's digits: about 1.9 GB);
# `make test` / `make setup` add the test, lint, torch and export packages to
# the same .venv instead of building another.
RUN_STAMP := $(VENV)/.installed-run-$(TF)
STAMP := $(VENV)/.installed-$(TF)
# The other Keras backends, each in its own environment, with TensorFlow
# beside it (tf.data feeds every backend): .venv-jax and .venv-torch.
BACKENDS := jax torch
BACKEND_STAMPS := $(BACKENDS:%=$(VENV)-%/.installed)
# What `make test` runs on JAX and PyTorch; the whole suite runs on TensorFlow.
BACKEND_SUITE := tests/backends/test_this_backend.py tests/backends/test_multi_host.py \
	tests/backends/test_multi_host_named_sets.py tests/backends/test_explain_backends.py \
	tests/resblocks tests/registry/training/test_optimizers.py tests/registry/training/test_ema.py

# The extras of each environment (variables: a comma would split $(call ...)).
RUN_EXTRAS := $(TF),demo
EXTRAS := $(TF),demo,test,lint,torch,export
BACKEND_EXTRAS = cpu,test,$*

# Two test processes (pytest-xdist), one per core of the CI machine: most
# tests are Python-bound (building models, tracing, subprocesses), so two
# run in about 0.6 of the time of one (TensorFlow's suite, 2 cores: 1,450 s
# in one process, 875 s in two). --dist loadfile keeps each test file in
# one process, so a module's fixtures (a trained run, its exports, the
# cross-backend test's JAX and PyTorch workers) are made once; the files go
# out in the order pytest collects them (--no-loadscope-reorder: by number
# of tests, the cross-backend test's 12 long cases would start last).
# `make test TEST_PROCESSES=0` runs the suite in this process. PyTorch's
# suite always does: 48 s in one process, 151 s in two (its demo training
# took 83 s instead of 10, PyTorch's threads contending for the cores).
TEST_PROCESSES ?= 2
test-torch: TEST_PROCESSES = 0
PYTEST = python -m pytest -q -n $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder --durations=25

# $(call timed,PART,COMMAND): runs COMMAND and says how long it took.
timed = start=$$(date +%s); $(2); status=$$?; \
	echo "== $(1): $$(( $$(date +%s) - start )) s"; exit $$status

export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow

SOURCES := resblocks registry recipes tests docs
, := ,

.PHONY: run test test-tensorflow lint test-slow bench docs setup backends clean

$(RUN_STAMP): setup.cfg pyproject.toml
	@$(call timed,set-up of $(VENV) (the demo's packages),\
	$(PYTHON) -m venv $(VENV) && \
	$(BIN)/pip install --quiet --upgrade pip && \
	$(BIN)/pip install --quiet -e ".[$(RUN_EXTRAS)]")
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	@$(call timed,tests$(,) lint$(,) torch and export packages in $(VENV),\
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]")
	touch $(STAMP)

$(VENV)-%/.installed: setup.cfg pyproject.toml
	@$(call timed,set-up of $(VENV)-$*,\
	$(PYTHON) -m venv $(VENV)-$* && \
	$(VENV)-$*/bin/pip install --quiet --upgrade pip && \
	$(VENV)-$*/bin/pip install --quiet -e ".[$(BACKEND_EXTRAS)]")
	touch $@

setup: $(STAMP)

backends: $(BACKEND_STAMPS)

## The main job on a small embedded default: no downloads beyond packages.
run: $(RUN_STAMP)
	$(BIN)/python -m registry demo
	@echo "The command line is $(BIN)/resblocks (or: source $(BIN)/activate, then resblocks --help)."

## What CI runs: lint, the import-layer contract (setup.cfg), the whole test
## suite on TensorFlow (with the cross-backend test, which needs all three
## environments), then the backend suite on JAX and on PyTorch.
test: lint test-tensorflow $(BACKENDS:%=test-%)

test-tensorflow: $(STAMP) $(BACKEND_STAMPS)
	@$(call timed,test suite on tensorflow,\
	RESBLOCKS_ALL_BACKENDS=1 $(BIN)/$(PYTEST) -m "not slow")

test-%: $(VENV)-%/.installed
	@$(call timed,backend suite on $*,\
	KERAS_BACKEND=$* $(VENV)-$*/bin/$(PYTEST) -m "not slow" $(BACKEND_SUITE))

## ruff (pyproject.toml) and the layers of docs/architecture.md (lint-imports, setup.cfg).
lint: $(STAMP)
	@$(call timed,lint,\
	$(BIN)/ruff check $(SOURCES) && \
	$(BIN)/ruff format --check $(SOURCES) && \
	$(BIN)/lint-imports)

## Long checks kept out of `make test`.
test-slow: $(STAMP) $(BACKEND_STAMPS)
	RESBLOCKS_ALL_BACKENDS=1 $(BIN)/$(PYTEST) -m slow
	for backend in $(BACKENDS); do \
		KERAS_BACKEND=$$backend $(VENV)-$$backend/bin/$(PYTEST) -m slow \
			$(BACKEND_SUITE) || exit 1; \
	done

## Regenerate the generated files: the diagrams, the block reference, the block signatures.
docs: $(STAMP)
	$(BIN)/python -m registry show resnet18 --diagram docs/diagrams/resnet18.svg
	$(BIN)/python -m registry show inception_resnet_v2 --diagram docs/diagrams/inception_resnet_v2.svg
	$(BIN)/python -m registry reference --output docs/reference/blocks.md
	$(BIN)/python -m registry.blocks.generate && $(BIN)/ruff format registry/blocks/signatures.py

## Speed against keras.applications and of the input pipeline (about an hour on
## 2 cores; BENCH_ARGS=--quick for a few); updates docs/performance.md. Then
## ResNeXt-50 against ResNet-50 per backend (JAX where it is installed), and
## the backend table: five recipes on TensorFlow, JAX and PyTorch; then ResNet-20
## on Fashion-MNIST: resblocks train, a plain keras.Model fit and a PyTorch loop
## (FASHION_ARGS, default 10,000 images for 1 epoch: minutes).
bench: $(STAMP) $(BACKEND_STAMPS)
	$(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python tests/benchmarks/bench_augment.py
	$(BIN)/python tests/benchmarks/bench_resnext.py
	$(BIN)/python tests/benchmarks/bench_backends.py
	$(BIN)/python tests/benchmarks/bench_fashion.py $(FASHION_ARGS)

clean:
	rm -rf $(VENV) $(BACKENDS:%=$(VENV)-%) runs .pytest_cache
