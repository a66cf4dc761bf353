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
