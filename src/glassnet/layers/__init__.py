"""Layers, one kind per file (Keras's map):

=========================  ================================================
:mod:`.layer`              the base :class:`Layer`: its contract, calling a
                           layer, layers made of layers (``call``)
:mod:`.graph`              a graph of layers: forward, and backward with the
                           gradients of a tensor used twice summed
:mod:`.core`               ``Input``, ``InputLayer``, ``Dense`` (z = x·W + b)
:mod:`.merging`            ``Add``, ``Subtract``, ``Multiply``, ``Average``,
                           ``Maximum``, ``Concatenate`` and ``add(...)``, ...
:mod:`.normalization`      ``BatchNormalization``, ``LayerNormalization``
:mod:`.preprocessing`      ``Rescaling``, ``Normalization``
:mod:`.regularization`     ``Dropout``
:mod:`.reshaping`          ``Flatten``, ``Reshape`` (batches stay 2-D)
:mod:`.activation`         ``Activation``, ``ReLU``, ``LeakyReLU``, ``Softmax``
=========================  ================================================
"""

from .layer import (REGISTRY, Layer, Node, Record, SymbolicTensor, Tensor, Variable, as_tensor,
                    is_symbolic)
from .graph import Delta, LayerGraph
from .core import Dense, Input, InputLayer, fold_bias, unfold_bias
from .merging import (Add, Average, Concatenate, Maximum, Merge, Multiply, Subtract, add, average,
                      concatenate, maximum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization
from .preprocessing import Normalization, Rescaling
from .regularization import Dropout
from .reshaping import Flatten, Reshape
from .activation import Activation, LeakyReLU, ReLU, Softmax

__all__ = ["Layer", "Record", "SymbolicTensor", "Node", "LayerGraph", "Delta", "Dense", "Dropout",
           "Rescaling", "Normalization", "BatchNormalization", "LayerNormalization", "InputLayer",
           "Input", "Merge", "Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate",
           "add", "subtract", "multiply", "average", "maximum", "concatenate", "Flatten", "Reshape",
           "Activation", "ReLU", "LeakyReLU", "Softmax",
           "fold_bias", "unfold_bias", "get", "serialize", "deserialize", "is_symbolic",
           "Tensor", "Variable", "as_tensor"]

REGISTRY.add_builtins(
    {"dense": Dense, "dropout": Dropout, "rescaling": Rescaling,
     "batch_normalization": BatchNormalization, "normalization": Normalization,
     "layer_normalization": LayerNormalization, "input_layer": InputLayer,
     "add": Add, "subtract": Subtract, "multiply": Multiply, "average": Average,
     "maximum": Maximum, "concatenate": Concatenate, "flatten": Flatten, "reshape": Reshape,
     "activation": Activation, "re_lu": ReLU, "leaky_re_lu": LeakyReLU, "softmax": Softmax},
    aliases={"batchnormalization": "batch_normalization", "batch_norm": "batch_normalization",
             "input": "input_layer", "relu": "re_lu", "leaky_relu": "leaky_re_lu"})
serialize = REGISTRY.serialize


def deserialize(config):
    """Rebuild a layer from ``{"class": "dense", "config": {...}}`` (what saving writes)."""
    return REGISTRY.deserialize(config)


def get(identifier):
    """A layer for a layer or a config dict."""
    return REGISTRY.get(identifier, "a Layer or a config dict")
