"""Stop words come from spaCy's word-list files without importing the language packages (a server start waited
seconds for the French tokenizer exceptions' regular expressions). Equality with the language defaults is
checked in test_text_analysis.py."""

from __future__ import annotations

import subprocess
import sys

from nzc_knowledge.text.analysis import stop_words


def test_french_stop_words_do_not_import_the_french_tokenizer():
    code = ("import sys; from nzc_knowledge.text.analysis import stop_words; assert 'le' in stop_words('fr'); "
            "print('spacy.lang.fr' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
