"""glassnet 0.2's module path for the models, kept so that old imports work.

The models live in :mod:`glassnet.models` now: :class:`~glassnet.models.Model`
(a graph of layers) in ``models/functional.py``, :class:`~glassnet.Sequential`
in ``models/sequential.py``, :func:`~glassnet.load_model` in ``models/saving.py``.
"""

from .models import TASKS, Model, Sequential, build_mlp, load_model
from .trainer import TrainingDiverged

__all__ = ["Model", "Sequential", "TrainingDiverged", "load_model", "build_mlp", "TASKS"]
