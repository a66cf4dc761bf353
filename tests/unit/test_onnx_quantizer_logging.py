"""The one-time int8 export keeps ONNX Runtime's quantizer chatter (root-logger info lines) out of our logs."""

from __future__ import annotations

import logging

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nzc_knowledge.onnx_encoder import _quiet_quantizer, quantize


def _tiny_matmul_model(path):
    """One MatMul with a weight: enough for the quantizer to log its per-tensor lines (no real model needed)."""
    weight = numpy_helper.from_array(np.random.default_rng(0).random((16, 16), dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])], [weight])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_the_quantizer_logs_nothing_below_error_and_the_root_logger_is_left_as_it_was(tmp_path, caplog):
    source, target = tmp_path / "model.onnx", tmp_path / "model-int8.onnx"
    _tiny_matmul_model(source)
    root = logging.getLogger()
    handlers, filters = list(root.handlers), list(root.filters)
    with caplog.at_level(logging.INFO):
        quantize(source, target)
    assert not [record for record in caplog.records if "onnxruntime" in record.pathname], caplog.text
    assert (root.handlers, root.filters) == (handlers, filters)
    quantized = onnx.load(target)
    assert any(node.op_type in {"MatMulInteger", "DynamicQuantizeLinear"} for node in quantized.graph.node)


def test_only_the_quantizers_records_are_dropped(caplog):
    with caplog.at_level(logging.INFO), _quiet_quantizer():
        logging.info("a line of ours through the root logger")
        logging.getLogger("nzc_knowledge.test").warning("and one through our own logger")
    assert [record.getMessage() for record in caplog.records] == [
        "a line of ours through the root logger", "and one through our own logger"]
