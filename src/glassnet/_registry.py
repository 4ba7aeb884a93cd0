"""One registry for every kind of object glassnet builds by name.

Layers, activations, losses, optimizers, learning-rate schedules,
initializers, regularizers, metrics and callbacks each have a
:class:`Registry` (created once, in the module that defines the kind).  A
registry maps case-insensitive names (and aliases) to classes and back, so
that ``Dense(4, activation="relu")`` finds :class:`~glassnet.activations.ReLU`
and a saved model writes ``{"class": "relu", "config": {}}`` and reads it back.

Your own classes join with :func:`register` (``glassnet.register``)::

    @gn.register
    class Cube(gn.activations.Activation):
        name = "cube"
        def forward(self, z, steps=None): return z ** 3
        def backward(self, z, a, grad_a): return grad_a * 3 * z ** 2

after which ``Dense(8, "cube")`` works, and a model that uses it saves and
loads by that name (loading a model that names an unregistered class says
which name to register).
"""

from __future__ import annotations

import re

__all__ = ["Registry", "register", "KINDS"]

#: every registry, by kind ("layer", "activation", ...), in the order they were created
KINDS = {}


def _key(name):
    return str(name).strip().lower().replace("-", "_")


def default_name(cls):
    """The name a class registers under unless told otherwise.

    A ``name`` string defined on the class itself (activations, losses,
    optimizers...) or else the class's own name in snake case, as Keras
    names layers (``MyLayer`` → ``my_layer``).
    """
    own = cls.__dict__.get("name")
    return own if isinstance(own, str) else re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class Registry:
    """Names ↔ classes for one kind of object.

    Parameters
    ----------
    kind : str
        What the classes are ("activation", "loss", ...), for error messages.
    base : type
        The kind's base class; its instances are accepted by :meth:`get` as
        they are, and :func:`register` uses it to tell the kinds apart.
    builtins : dict of str to type
        The classes glassnet ships, by name; user classes cannot take these
        names.
    aliases : dict, optional
        Other accepted names, mapped to canonical ones.
    """

    def __init__(self, kind, base, builtins, aliases=None):
        self.kind = kind
        self.base = base
        self.classes = {}
        self._names = {}                     # class -> its registered name
        for name, cls in builtins.items():
            self.add(cls, name)
        self._builtin = frozenset(self.classes)
        self.aliases = {_key(a): _key(n) for a, n in (aliases or {}).items()}
        KINDS[kind] = self

    def add(self, cls, name=None):
        """Register ``cls`` under ``name`` (default: :func:`default_name`); returns ``cls``."""
        key = _key(name or default_name(cls))
        if key in getattr(self, "_builtin", ()) and self.classes[key] is not cls:
            raise ValueError(f"{key!r} is the name of glassnet's built-in {self.kind} "
                             f"{self.classes[key].__name__}; register "
                             f"{cls.__name__} under another name (name=...)")
        self.classes[key] = cls              # a class redefined (in a notebook) replaces itself
        self._names[cls] = key
        return cls

    def add_builtins(self, builtins, aliases=None):
        """Add glassnet's own classes (defined after the registry, in several modules)."""
        for name, cls in builtins.items():
            self.add(cls, name)
        self._builtin = frozenset(self.classes)
        self.aliases.update({_key(a): _key(n) for a, n in (aliases or {}).items()})

    def names(self):
        """Canonical names, sorted."""
        return sorted(self.classes)

    def name_of(self, obj):
        """The name ``obj``'s class is registered under (its default name if it is not)."""
        cls = obj if isinstance(obj, type) else type(obj)
        return self._names.get(cls) or _key(default_name(cls))

    def lookup(self, name):
        """The class registered under ``name``; ``ValueError`` listing valid names if none."""
        key = _key(name)
        key = self.aliases.get(key, key)
        if key not in self.classes:
            shown = repr(name) if len(str(name)) <= 80 else repr(str(name)[:80]) + "…"
            raise ValueError(
                f"unknown {self.kind} {shown}; valid names are: {', '.join(self.names())}. "
                f"If {shown} is your own class, register it first: glassnet.register(<class>)"
                + ("" if key == _key(name) else f" (as {key!r})"))
        return self.classes[key]

    def get(self, identifier, accepted="a name"):
        """An instance for an instance of ``base``, a name (default arguments) or a config.

        ``accepted`` completes the error message for anything else
        (e.g. "a name, an Activation or None").
        """
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            return self.lookup(identifier)()
        raise ValueError(f"{self.kind} must be {accepted}; received {identifier!r} of type "
                         f"{type(identifier).__name__}")

    def serialize(self, obj):
        """``{"class": name, "config": obj.get_config()}``: what :meth:`deserialize` reads."""
        return {"class": self.name_of(obj), "config": obj.get_config()}

    def deserialize(self, config):
        """Instantiate from ``{"class": name, "config": {...}}``.

        glassnet 0.1's flat form ``{"name": name, **arguments}`` is read too,
        so model files saved by 0.1 still load.
        """
        if isinstance(config, dict) and isinstance(config.get("class"), str) \
                and isinstance(config.get("config", {}), dict):
            name, arguments = config["class"], config.get("config", {})
        elif isinstance(config, dict) and isinstance(config.get("name"), str):
            arguments = dict(config)
            name = arguments.pop("name")
        else:
            raise ValueError(f"a {self.kind} config must be a dict "
                             f"{{'class': name, 'config': {{...}}}}; received {config!r}")
        cls = self.lookup(name)
        maker = getattr(cls, "from_layer_config", None) if self.kind == "layer" else None
        if maker is not None:                 # a model inside a model: not built on its own
            return maker(arguments)
        try:
            return cls(**arguments)
        except TypeError as exc:
            raise ValueError(f"invalid arguments for {self.kind} {name!r}: {exc}") from None


def register(cls=None, *, name=None):
    """Make a class of your own known by name, so models that use it save and load.

    Use as ``glassnet.register(MyClass)``, ``glassnet.register(MyClass,
    name="mine")`` or as a decorator (``@glassnet.register`` or
    ``@glassnet.register(name="mine")``).  The kind (layer, activation,
    loss, optimizer, schedule, initializer, regularizer, metric, callback)
    is read from the base class (a subclass of ``Model`` or ``Sequential`` joins the
    models, so that it saves and loads as itself).  Returns the class.
    """
    if cls is None:
        return lambda c: register(c, name=name)
    if not isinstance(cls, type):
        raise ValueError(f"register expects a class; received {cls!r}")
    kinds = [registry for registry in KINDS.values() if issubclass(cls, registry.base)]
    for registry in kinds:     # a model is a layer too: it joins both (a model in a model)
        registry.add(cls, name)
    if kinds:
        return cls
    bases = ", ".join(r.base.__qualname__ for r in KINDS.values())
    raise ValueError(f"register expects a subclass of one of {bases}; received {cls.__name__}, "
                     f"which derives from {', '.join(b.__name__ for b in cls.__mro__[1:])}")
