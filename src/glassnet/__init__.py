"""glassnet: a neural network you can read, written with NumPy alone.

Where each equation lives:

=====================  ================================================
weighted sum z = xW+b  :class:`glassnet.layers.Dense` (``forward``, layers/core.py)
activation a = σ(z)    :mod:`glassnet.activations`
loss                   :mod:`glassnet.losses`
backpropagation        :meth:`glassnet.layers.Dense.backward`; through a graph:
                       :class:`glassnet.layers.LayerGraph` (layers/graph.py)
gradient descent       :mod:`glassnet.optimizers`
one training step      :meth:`glassnet.Model.train_step` (models/functional.py)
the training loop      :meth:`glassnet.Sequential.fit` (:mod:`glassnet.trainer`)
=====================  ================================================
"""

from ._version import __version__
from . import (activations, callbacks, datasets, initializers, layers, losses, metrics, models,
               optimizers, regularizers, utils)
from ._registry import register
from .callbacks import (BackupAndRestore, CSVLogger, Callback, EarlyStopping, History,
                        LambdaCallback, LearningRateScheduler, ModelCheckpoint, ProgbarLogger,
                        ReduceLROnPlateau, TerminateOnNaN)
from .layers import (BatchNormalization, Dense, Dropout, Input, InputLayer, LayerNormalization,
                     Normalization, Rescaling, fold_bias, unfold_bias)
from .models import Model, Sequential, load_model
from .trainer import TrainingDiverged
from .gradcheck import gradcheck
from .optimizers import SGD, Adam, CosineDecay, ExponentialDecay, RMSprop, StepDecay


class GradientTape:
    """Not in glassnet: there is no automatic differentiation here, by design.

    Every layer writes its own backward pass next to its forward pass, so the
    gradients are readable.  For a custom training step, override
    ``train_step`` and call ``self.compute_loss_and_gradients(x, y)``, which
    fills ``self.grads``; then ``self.optimizer.step(self.params, self.grads)``.
    """

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "glassnet has no GradientTape (no automatic differentiation: each layer's backward "
            "pass is written out). Override train_step and call "
            "self.compute_loss_and_gradients(x, y), then self.optimizer.step(self.params, "
            "self.grads) — see the README section 'Change it'")
from . import notebook                   # rich displays in Jupyter (registers when IPython runs)


__all__ = [
    "Model", "Sequential", "Dense", "Dropout", "Rescaling", "Normalization", "BatchNormalization",
    "LayerNormalization",
    "InputLayer", "Input",
    "SGD", "Adam", "RMSprop", "StepDecay", "ExponentialDecay", "CosineDecay", "Callback",
    "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "ProgbarLogger",
    "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "TerminateOnNaN", "BackupAndRestore",
    "load_model", "gradcheck", "fold_bias", "unfold_bias", "TrainingDiverged", "register",
    "activations", "callbacks", "datasets", "initializers", "layers", "losses", "metrics",
    "models", "notebook", "optimizers", "regularizers", "utils", "__version__",
]
