"""Stop words come from spaCy's word-list files without importing the language packages (a server start waited
seconds for the French tokenizer exceptions' regular expressions)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from spacy.util import get_lang_class

from nzc_knowledge.text.analysis import stop_words


@pytest.mark.parametrize("language", ["en", "fr", "de", "it", "sv"])
def test_stop_words_equal_the_language_defaults(language):
    assert stop_words(language) == frozenset(word.lower() for word in get_lang_class(language).Defaults.stop_words)


def test_an_unknown_language_has_no_stop_words():
    assert stop_words("zz") == frozenset()


def test_french_stop_words_do_not_import_the_french_tokenizer():
    code = ("import sys; from nzc_knowledge.text.analysis import stop_words; assert 'le' in stop_words('fr'); "
            "print('spacy.lang.fr' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
