"""Keras's ``keras.models`` namespace: ``gn.models.Sequential``, ``gn.models.load_model``."""

from .model import Sequential, build_mlp, load_model

__all__ = ["Sequential", "load_model", "build_mlp"]
