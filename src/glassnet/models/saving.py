"""Loading a saved model: every check before any allocation, then one build.

The file is untrusted (see :mod:`glassnet.serialization`).  Loading parses the
architecture without building it — each layer's shapes are computed from the
configuration, nothing is allocated — compares the number of weights with the
file's array header, and only then allocates the model's vector, once.  So a
small file cannot make ``load_model`` allocate more than the file holds, and
the time is linear in the number of layers.
"""

from __future__ import annotations

import math

from .. import _validation as check
from .. import losses, optimizers, serialization
from .functional import REGISTRY
from .sequential import Sequential

__all__ = ["load_model", "MAX_LAYERS"]

#: the most layers (and layer calls) a model file may describe: each costs about 1.5 KB of
#: Python objects, so a file cannot make loading take more than about 30 MB for them
MAX_LAYERS = 20_000


def _architecture(config):
    """The model (unbuilt) and its weight shapes, from a config read from a file."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("it has no layer list")
    for key in ("layers", "nodes"):
        if isinstance(config.get(key), list) and len(config[key]) > MAX_LAYERS:
            raise ValueError(f"it describes {len(config[key])} {key}, more than the "
                             f"{MAX_LAYERS:,} glassnet loads (glassnet.models.saving.MAX_LAYERS)")
    name = config.get("class", "sequential")
    if not isinstance(name, str):
        raise ValueError(f"the model class {name!r} is not a name")
    cls = REGISTRY.lookup(name)
    if issubclass(cls, Sequential):
        input_dim = config.get("input_dim")
        if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
            raise ValueError(f"input_dim {input_dim!r} is not a positive integer")
        model = cls.from_config(config, build=False)
        return model, model.weight_shapes(input_dim)
    model = cls.from_config(config, build=False)
    return model, model.weight_shapes()


def _compile(model, compile_cfg):
    if not isinstance(compile_cfg, dict):
        raise ValueError("they are not a dict")
    loss = compile_cfg.get("loss")
    loss = ([None if item is None else losses.get(item) for item in loss]
            if isinstance(loss, list) else losses.get(loss))
    weights = compile_cfg.get("loss_weights")
    if weights is not None and (not isinstance(weights, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights)):
        raise ValueError(f"loss_weights {weights!r} is not a list of numbers")
    metrics = compile_cfg.get("metrics") or []
    if not isinstance(metrics, list):
        raise ValueError(f"metrics {metrics!r} is not a list")
    model.compile(optimizer=optimizers.get(compile_cfg["optimizer"]), loss=loss,
                  metrics=metrics, loss_weights=weights)
    iterations = check.non_negative_int(compile_cfg.get("iterations", 0), "iterations")
    if iterations >= 2 ** 53:
        raise ValueError(f"iterations {iterations} is beyond any real training")
    model.optimizer.iterations = iterations


def load_model(path):
    """Load a model saved by :meth:`Model.save` (``Sequential``, functional or a registered subclass).

    The file is treated as untrusted (see :mod:`glassnet.serialization`):
    nothing in it can run code, and every way it can be wrong is a
    ``ValueError`` naming the file and the reason — checked before anything
    the size of the architecture is allocated.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a valid glassnet model.
    """
    with serialization.ModelFile(path) as file:
        meta = file.meta
        with file.reason("its architecture is invalid"):
            model, shapes = _architecture(meta.get("model"))
        # before allocating anything: the file must hold as many weights as the architecture
        size = sum(math.prod(s) for p, st in shapes for s in p + st)
        file.check_array(serialization.PARAMS, (size,), model.dtype)
        with file.reason("its architecture is invalid"):
            model._allocate(shapes)
            widths = model.output_widths
            if model.class_names is not None and (
                    len(widths) != 1 or len(model.class_names) != max(widths[0], 2)):
                raise ValueError(f"{len(model.class_names)} class names for "
                                 f"{model.output_dim} outputs")
            if meta.get("rng_state") is not None:
                model.rng.bit_generator.state = meta["rng_state"]
            model.history.restore(meta.get("history") or {})
            if not isinstance(meta.get("glassnet_version", ""), str):
                raise ValueError("glassnet_version is not a string")
        compile_cfg = meta.get("compile")
        members = {serialization.PARAMS}
        if compile_cfg is not None:
            with file.reason("its compile settings are invalid"):
                _compile(model, compile_cfg)
            members |= {serialization.optimizer_member(k) for k in model.optimizer.state_names}
        file.check_members(members)
        model.variables[...] = file.array(serialization.PARAMS, model.variables.shape,
                                          model.dtype)
        if compile_cfg is not None:
            opt = model.optimizer
            opt.build(model.params.size, model.dtype)
            for key in opt.state_names:
                opt.state[key][...] = file.array(serialization.optimizer_member(key),
                                                 model.params.shape, model.dtype)
    return model
