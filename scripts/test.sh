#!/usr/bin/env bash
# Set up and run the whole test suite: unit, integration (real model, real server) and browser tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -x tests/integration/test_api.py`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Browser tests drive Debian's chromium with Playwright (no browser download is possible or wanted).
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "chromium is missing and installing it needs root: sudo apt-get install -y chromium" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# Plain `pytest` runs tests/unit only; this runs all of tests/ (unit, integration, browser) but `slow`.
exec .venv/bin/python -m pytest -o testpaths=tests -m "not slow" "$@"
