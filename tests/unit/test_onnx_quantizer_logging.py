"""The one-time int8 export keeps ONNX Runtime's quantizer chatter (root-logger info lines) out of our logs.

The export itself is checked in tests/integration/test_encoder_backends.py; here, what the filter lets through.
"""

from __future__ import annotations

import logging
import os

from nzc_knowledge.onnx_encoder import _quiet_quantizer, quantizer_folder


def _from_the_quantizer(level: int, message: str) -> logging.LogRecord:
    """A record as `logging.info(...)` in onnxruntime/quantization/onnx_quantizer.py makes it."""
    return logging.LogRecord("root", level, os.path.join(quantizer_folder(), "onnx_quantizer.py"), 1, message, None, None)


def test_only_the_quantizers_lines_below_error_are_dropped_and_only_while_it_runs(caplog):
    root = logging.getLogger()
    handlers, filters = list(root.handlers), list(root.filters)
    with caplog.at_level(logging.INFO):
        with _quiet_quantizer():
            root.handle(_from_the_quantizer(logging.INFO, 'Quantization parameters for tensor:"x" not specified'))
            root.handle(_from_the_quantizer(logging.WARNING, "Please consider to run pre-processing"))
            root.handle(_from_the_quantizer(logging.ERROR, "a real failure"))
            logging.info("a line of ours through the root logger")
            logging.getLogger("nzc_knowledge.test").warning("and one through our own logger")
        root.handle(_from_the_quantizer(logging.INFO, "after the export"))
    assert [record.getMessage() for record in caplog.records] == [
        "a real failure", "a line of ours through the root logger", "and one through our own logger", "after the export"]
    assert (root.handlers, root.filters) == (handlers, filters)
