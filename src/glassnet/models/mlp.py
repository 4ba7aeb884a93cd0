"""A multilayer perceptron for a task, in one call: what the CLI and the scikit-learn wrappers train."""

from __future__ import annotations

from .. import layers as layers_module
from .. import optimizers
from .sequential import Sequential

__all__ = ["build_mlp", "TASKS"]

#: output activation, loss and metrics for each kind of task
TASKS = {"multiclass": ("softmax", "sparse_categorical_crossentropy", ["accuracy"]),
         "binary": ("sigmoid", "binary_crossentropy", ["accuracy"]),
         "regression": ("linear", "mse", ["mae"])}


def build_mlp(n_outputs, task, hidden=(100,), activation="relu", optimizer="adam",
              learning_rate=None, front=(), dtype="float32", seed=None, device="cpu"):
    """A compiled multilayer perceptron for a task.

    Parameters
    ----------
    n_outputs : int
        Classes (``"multiclass"``), 1 (``"binary"``) or targets (``"regression"``).
    task : {"multiclass", "binary", "regression"}
        Picks the output activation, the loss and the metrics from :data:`TASKS`.
    hidden : sequence of int
        Units of each hidden Dense layer.
    activation : str
        The hidden layers' activation.
    optimizer : str or Optimizer
    learning_rate : float, optional
        Sets the optimizer's learning rate (its default otherwise).
    front : sequence of Layer
        Layers put before the hidden ones (e.g. a Rescaling).
    device : {"cpu", "cuda"}
        Where the model lives (see :class:`~glassnet.Sequential`).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}; received {task!r}")
    output, loss, metrics = TASKS[task]
    stack = list(front) + [layers_module.Dense(int(units), activation) for units in hidden]
    stack.append(layers_module.Dense(n_outputs, output))
    model = Sequential(stack, dtype=dtype, seed=seed, device=device)
    opt = optimizers.get(optimizer)
    if learning_rate is not None:
        opt.learning_rate = learning_rate
    return model.compile(loss=loss, optimizer=opt, metrics=metrics)
