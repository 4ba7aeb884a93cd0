"""Name → class look-up shared by activations, losses, initializers, optimizers, metrics."""

from __future__ import annotations


class Registry:
    """Maps case-insensitive names (and aliases) to classes of one kind.

    Parameters
    ----------
    kind : str
        What the classes are ("activation", "loss", ...), for error messages.
    classes : iterable of type
        Each has a ``name`` class attribute, its canonical name.
    aliases : dict, optional
        Other accepted names, mapped to canonical ones.
    base : type, optional
        Instances of this class are accepted by :meth:`get` as they are.
    """

    def __init__(self, kind, classes, aliases=None, base=None):
        self.kind = kind
        self.classes = {cls.name: cls for cls in classes}
        self.aliases = dict(aliases or {})
        self.base = base

    def get(self, identifier, accepted="a name"):
        """An instance for an instance of ``base``, a name (default arguments) or a config dict.

        ``accepted`` completes the error message for anything else
        (e.g. "a name, an Activation or None").
        """
        if self.base is not None and isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, dict):
            return self.from_config(identifier)
        if isinstance(identifier, str):
            return self.lookup(identifier)()
        raise ValueError(f"{self.kind} must be {accepted}; received {identifier!r} of type "
                         f"{type(identifier).__name__}")

    def names(self):
        """Canonical names, sorted."""
        return sorted(self.classes)

    def lookup(self, name):
        """The class registered under ``name``; ``ValueError`` listing valid names if none."""
        key = str(name).strip().lower().replace("-", "_")
        key = self.aliases.get(key, key)
        if key not in self.classes:
            raise ValueError(
                f"unknown {self.kind} {name!r}; valid names are: {', '.join(self.names())}")
        return self.classes[key]

    def from_config(self, config):
        """Instantiate from ``{"name": ..., **constructor_arguments}``."""
        if not isinstance(config, dict) or "name" not in config:
            raise ValueError(f"a {self.kind} config must be a dict with a 'name'; received {config!r}")
        config = dict(config)
        cls = self.lookup(config.pop("name"))
        try:
            return cls(**config)
        except TypeError as exc:
            raise ValueError(f"invalid arguments for {self.kind} {cls.name!r}: {exc}") from None


def serialize(obj):
    """``{"name": ..., **get_config()}``: what :meth:`Registry.from_config` reads back."""
    return {"name": obj.name, **obj.get_config()}
