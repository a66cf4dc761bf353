"""The encoder backend setting: validated, and carried with the model cache to the encoder options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nzc_knowledge.encoders import EncoderOptions
from nzc_knowledge.settings import Settings


def test_an_unknown_backend_is_a_clear_settings_error():
    with pytest.raises(ValidationError, match="unknown encoder backend 'gpu'; choose one of: torch, onnx, onnx-int8"):
        Settings(encoder_backend="gpu")
    with pytest.raises(ValueError, match="unknown encoder backend"):
        EncoderOptions(backend="onnx-int4")


def test_the_settings_carry_backend_and_cache_to_the_encoder_options(tmp_path):
    options = Settings(encoder_backend="onnx-int8", model_cache=tmp_path).encoder_options
    assert options == EncoderOptions(backend="onnx-int8", cache_dir=tmp_path)


class _Loaded(Exception):
    """Stops a command right after it loaded its encoder: what it asked for is the point, not a model."""


@pytest.fixture
def asked_options(monkeypatch, tmp_path):
    """The `EncoderOptions` each `load_encoder` call got, with NZC_ENCODER_BACKEND=onnx-int8 in the environment."""
    from nzc_knowledge import encoders

    monkeypatch.setenv("NZC_ENCODER_BACKEND", "onnx-int8")
    monkeypatch.setenv("NZC_MODEL_CACHE", str(tmp_path))
    asked = []

    def fake_load(name=encoders.DEFAULT_ENCODER, options=None):
        asked.append(options)
        raise _Loaded

    monkeypatch.setattr(encoders, "load_encoder", fake_load)
    return asked, fake_load


@pytest.mark.parametrize("command", [["eval", "tags"], ["bench", "reindex", "tests/data/corpus"]])
def test_commands_load_minilm_with_the_configured_backend(asked_options, command, tmp_path):
    from click.testing import CliRunner

    from nzc_knowledge.cli import main

    result = CliRunner().invoke(main, command)
    assert isinstance(result.exception, _Loaded), result.output
    assert asked_options[0][0] == EncoderOptions(backend="onnx-int8", cache_dir=tmp_path)


def test_the_tagger_is_trained_with_the_configured_backend(asked_options, monkeypatch, tmp_path):
    from nzc_knowledge.ingest import train_tagger

    monkeypatch.setattr(train_tagger, "load_encoder", asked_options[1])
    monkeypatch.setattr("sys.argv", ["train_tagger", "--multilingual-encoder", "none"])
    with pytest.raises(_Loaded):
        train_tagger.main()
    assert asked_options[0] == [EncoderOptions(backend="onnx-int8", cache_dir=tmp_path)]


def test_the_reindex_worker_gives_onnx_runtime_its_thread_limit(monkeypatch, tmp_path):
    from nzc_knowledge import encoders
    from nzc_knowledge.api import reindex_worker

    asked = []
    monkeypatch.setattr(encoders, "load_encoder", lambda name, options=None: asked.append(options))
    reindex_worker._load_encoder(encoders.DEFAULT_ENCODER, 2, EncoderOptions(backend="onnx", cache_dir=tmp_path))
    assert asked == [EncoderOptions(backend="onnx", cache_dir=tmp_path, threads=2)]
