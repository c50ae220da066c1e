# Two commands do all set-up on a fresh machine:
#   make demo   install, build the demo data and tiny model, run the whole pipeline on CPU
#   make test   install, run the tests (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo
export PATH := $(abspath $(BIN)):$(PATH)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
# DeepSpeed's JIT-built ops (the CPU shm_comm) per environment: builds for another venv or an interrupted build
# elsewhere then never block this one
export TORCH_EXTENSIONS_DIR := $(abspath $(VENV))/torch_extensions

.PHONY: install demo test lint clean-demo

$(BIN)/.installed: envs/requirements.txt pyproject.toml
	@start=$$(date +%s); \
	$(PYTHON) -m venv $(VENV) && \
	$(BIN)/pip install -q -r envs/requirements.txt && \
	$(BIN)/pip install -q --no-deps -e . && \
	echo "install: $$(( $$(date +%s) - start )) s"
	@touch $@

install: $(BIN)/.installed

$(DEMO)/.built: $(BIN)/.installed src/xstilts/demo.py src/xstilts/tiny.py src/xstilts/tiny_mt.py
	$(BIN)/python -m xstilts demo-data $(DEMO)
	@touch $@

demo: $(DEMO)/.built
	@start=$$(date +%s); \
	$(BIN)/snakemake --profile profiles/demo && \
	echo "pipeline: $$(( $$(date +%s) - start )) s" && \
	echo "tables: $(DEMO)/paper/tables/{xtreme,research_question}.tex, heat maps: $(DEMO)/paper/figures/" && \
	echo "scores: $(DEMO)/results/scores.csv, deltas: $(DEMO)/results/deltas.csv"

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/snakemake --lint

clean-demo:
	rm -rf $(DEMO)
