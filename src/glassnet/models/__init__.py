"""Models (Keras's ``keras.models``), one kind per file:

======================  ====================================================
:mod:`.functional`      :class:`Model`: a graph of layers (the functional API),
                        the math of a training step, weights, saving
:mod:`.sequential`      :class:`Sequential`: the special case of a chain
:mod:`.saving`          :func:`load_model`: every check before any allocation
:mod:`.mlp`             :func:`build_mlp`: a compiled MLP for a task
======================  ====================================================
"""

from .functional import REGISTRY, Model
from .sequential import Sequential
from .saving import load_model
from .mlp import TASKS, build_mlp

Functional = Model

__all__ = ["Model", "Functional", "Sequential", "load_model", "build_mlp", "TASKS", "REGISTRY"]
