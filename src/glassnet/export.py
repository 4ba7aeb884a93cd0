"""Export to ONNX, the format deployment runtimes read (ONNX Runtime and others).

Needs the ``onnx`` package (``pip install 'glassnet[onnx]'``).  The graph is
the forward pass of :mod:`glassnet.layers`, one ONNX node per equation; each
layer and each activation writes its own nodes (their ``to_onnx`` methods),
on a :class:`Graph` from here:

==================  =============================================
Rescaling           ``Mul(x, scale)``, ``Add(·, offset)``
BatchNormalization  ``(x - mean) / std · γ + β`` (inference form)
LayerNormalization  ``ReduceMean``, ``Sub``, ``Sqrt``, ``Div``, ``Mul``, ``Add``
Dense             ``MatMul(x, W)``, ``Add(·, b)``, then σ
Dropout           nothing (identity at inference)
Add, Subtract,    ``Sum``, ``Sub``, ``Mul``, ``Mean``, ``Max``
Multiply, Average,
Maximum
Concatenate       ``Concat(axis=1)``
linear            nothing
sigmoid, tanh,    ``Sigmoid``, ``Tanh``, ``Relu``, ``Softmax(axis=-1)``
relu, softmax
leaky_relu        ``Max(z, slope · z)``
elu               ``Where(z > 0, z, α (Exp(Min(z, 0)) - 1))``
softplus          ``Max(z, 0) + Log(1 + Exp(-|z|))`` (stable, like glassnet)
swish             ``z · Sigmoid(z)``
step              ``Cast(Greater(z, 0))``
================  ===============================================

The batch dimension is dynamic (named "batch"); the input is called
"input" and the output "output"; the glassnet version and the architecture
(JSON) are stored as metadata.  float32 and float64 models export with their
own type.
"""

from __future__ import annotations

import json

import numpy as np

from ._version import __version__
from .backend import to_host
from .io import atomic_write

#: ONNX opset the exported graphs use (Softmax over the last axis needs 13+)
OPSET = 17

__all__ = ["export_onnx", "to_onnx", "Graph", "OPSET"]


def _onnx():
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'glassnet[onnx]'") \
            from None
    return onnx, TensorProto, helper, numpy_helper


class Graph:
    """Accumulates nodes and constants; each method returns the name of its output.

    ``const(value, hint)`` stores an array in the model's dtype;
    ``op(op_type, inputs, **attributes)`` appends a node; ``elem_type`` is
    the ONNX element type of the model's dtype.
    """

    def __init__(self, dtype):
        self.onnx, self.TensorProto, self.helper, self.numpy_helper = _onnx()
        self.dtype = np.dtype(dtype)
        self.elem_type = self.TensorProto.FLOAT if self.dtype == np.float32 \
            else self.TensorProto.DOUBLE
        self.nodes, self.initializers = [], []
        self._count = 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value, hint):
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(
            np.asarray(to_host(value), dtype=self.dtype), name=name))
        return name

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def to_onnx(model):
    """The model as an ``onnx.ModelProto`` (checked with ``onnx.checker``).

    A graph of layers becomes an ONNX graph node for node; a model with
    several inputs or outputs names them after the model's
    ``input_names``/``output_names`` ("input" and "output" when there is one).
    """
    if not model.built:
        raise ValueError("the model has no weights yet; build or train it before exporting")
    graph = Graph(model.dtype)
    helper = graph.helper
    widths = model.input_widths if hasattr(model, "input_widths") and model.input_widths \
        else [model.input_dim]
    in_names = ["input"] if len(widths) == 1 else list(model.input_names)
    outs = model.graph.to_onnx(graph, list(in_names))
    out_widths = model.output_widths
    out_names = ["output"] if len(outs) == 1 else list(model.output_names)
    # name each output (an Identity keeps the graph simple to read)
    for value, name in zip(outs, out_names):
        graph.nodes.append(helper.make_node("Identity", [value], [name]))
    inputs = [helper.make_tensor_value_info(n, graph.elem_type, ["batch", w])
              for n, w in zip(in_names, widths)]
    outputs = [helper.make_tensor_value_info(n, graph.elem_type, ["batch", w])
               for n, w in zip(out_names, out_widths)]
    g = helper.make_graph(graph.nodes, model.name or "glassnet", inputs, outputs,
                          graph.initializers)
    proto = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="glassnet", producer_version=__version__)
    proto.ir_version = min(proto.ir_version, 8)        # readable by older runtimes too
    helper.set_model_props(proto, {"glassnet_version": __version__,
                                   "architecture": json.dumps(model.get_config())})
    graph.onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model, path):
    """Write ``model`` to ``path`` as ONNX (atomically, like :meth:`Sequential.save`)."""
    proto = to_onnx(model)
    data = proto.SerializeToString()
    atomic_write(path, lambda handle: handle.write(data))
    return path
