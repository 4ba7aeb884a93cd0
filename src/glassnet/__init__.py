"""glassnet: a neural network you can read, written with NumPy alone.

Where each equation lives:

=====================  ================================================
weighted sum z = xW+b  :class:`glassnet.layers.Dense` (``forward``)
activation a = σ(z)    :mod:`glassnet.activations`
loss                   :mod:`glassnet.losses`
backpropagation        :meth:`glassnet.layers.Dense.backward`
gradient descent       :mod:`glassnet.optimizers`
the training loop      :meth:`glassnet.Sequential.fit`
=====================  ================================================
"""

__version__ = "0.1.0"

from . import activations, callbacks, initializers, losses, metrics, optimizers, regularizers
from .callbacks import (Callback, EarlyStopping, History, LearningRateScheduler, ModelCheckpoint,
                        ProgbarLogger)
from .gradcheck import gradcheck
from .layers import Dense, Dropout, Rescaling, fold_bias, unfold_bias
from .model import Sequential, TrainingDiverged
from .optimizers import SGD, Adam, CosineDecay, ExponentialDecay, RMSprop, StepDecay
from .serialization import load_model

__all__ = [
    "Sequential", "Dense", "Dropout", "Rescaling", "SGD", "Adam", "RMSprop", "StepDecay", "ExponentialDecay",
    "CosineDecay", "Callback", "History", "EarlyStopping", "ModelCheckpoint",
    "LearningRateScheduler", "ProgbarLogger", "load_model", "gradcheck", "fold_bias",
    "unfold_bias", "TrainingDiverged", "activations", "callbacks", "initializers", "losses",
    "metrics", "optimizers", "regularizers", "__version__",
]
