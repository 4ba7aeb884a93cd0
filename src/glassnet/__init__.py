"""glassnet: a neural network you can read, written with NumPy alone.

Where each equation lives:

=====================  ================================================
weighted sum z = xW+b  :class:`glassnet.layers.Dense` (``forward``)
activation a = σ(z)    :mod:`glassnet.activations`
loss                   :mod:`glassnet.losses`
backpropagation        :meth:`glassnet.layers.Dense.backward`
gradient descent       :mod:`glassnet.optimizers`
one training step      :meth:`glassnet.Sequential.train_step`
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
from .layers import (BatchNormalization, Dense, Dropout, InputLayer, LayerNormalization,
                     Normalization, Rescaling, fold_bias, unfold_bias)
from .model import Sequential, TrainingDiverged, load_model
from .gradcheck import gradcheck
from .optimizers import SGD, Adam, CosineDecay, ExponentialDecay, RMSprop, StepDecay
from . import notebook                   # rich displays in Jupyter (registers when IPython runs)


def Input(shape, name=None):
    """Keras's ``Input(shape=(n,))`` for a Sequential model: an :class:`InputLayer`."""
    return InputLayer(shape=shape, name=name)


__all__ = [
    "Sequential", "Dense", "Dropout", "Rescaling", "Normalization", "BatchNormalization",
    "LayerNormalization",
    "InputLayer", "Input",
    "SGD", "Adam", "RMSprop", "StepDecay", "ExponentialDecay", "CosineDecay", "Callback",
    "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "ProgbarLogger",
    "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "TerminateOnNaN", "BackupAndRestore",
    "load_model", "gradcheck", "fold_bias", "unfold_bias", "TrainingDiverged", "register",
    "activations", "callbacks", "datasets", "initializers", "layers", "losses", "metrics",
    "models", "notebook", "optimizers", "regularizers", "utils", "__version__",
]
