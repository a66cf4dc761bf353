"""A starting server imports neither torch nor spaCy nor transformers: search needs word lists, stemmers, lemma
tables and ONNX Runtime; those imports were most of the fixed start-up time."""

from __future__ import annotations

import subprocess
import sys


def test_the_server_imports_neither_torch_nor_spacy():
    code = ("import sys; from nzc_knowledge.api.app import create_app; "
            "print(sorted({'torch', 'spacy', 'transformers'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
