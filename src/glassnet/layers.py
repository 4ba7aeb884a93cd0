"""Layers: the weighted sum, and backpropagation through it.

Data layout, once for the whole library: a batch is a 2-D array of shape
``(n_samples, n_features)``, one sample per row.  A dense layer with ``units``
neurons holds a kernel ``W`` of shape ``(inputs, units)`` and a bias ``b`` of
shape ``(units,)``, so a whole batch goes forward in one matrix product:

    z = x · W + b          (n, inputs) · (inputs, units) + (units,) → (n, units)
    a = σ(z)               the activation, elementwise

Row i of ``z`` holds, for every neuron j, seed 000's ``Σ_k x_ik w_kj`` plus the
bias.

Backpropagation runs the same layer in reverse.  Given ``dL/da`` from the
layer above, the chain rule gives, in order,

    δ = dL/dz = dL/da ⊙ σ'(z)        (the activation's ``backward``)
    dL/dW = xᵀ · δ                     (inputs, n) · (n, units)
    dL/db = Σ_i δ_i                    summed over the batch
    dL/dx = δ · Wᵀ                     handed to the layer below as its dL/da

(The mean over the batch is already inside δ: the loss divides by n.)

The model keeps all parameters in one flat vector and hands each layer views
into it (:meth:`Layer.bind`), so ``W`` and ``b`` here *are* slices of that
vector and the optimizer updates every layer at once.  During ``fit`` each
layer also reuses preallocated buffers for z, a and the gradients
(:meth:`Layer.allocate`), so the training loop allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np

from . import activations, initializers, regularizers

__all__ = ["Layer", "Dense", "Dropout", "Rescaling", "fold_bias", "unfold_bias", "get"]


class Layer:
    """Base class.

    A layer is built once its input width is known (:meth:`build`), is given
    views into the model's flat parameter and gradient vectors (:meth:`bind`),
    and then runs :meth:`forward` and :meth:`backward`.
    """

    name = "layer"

    def __init__(self, name=None):
        self.layer_name = name
        self.input_dim = None
        self.output_dim = None
        #: views into the model's flat parameter / gradient vectors, set by :meth:`bind`
        self.param_views = []
        self.grad_views = []
        #: the owning model's numpy.random.Generator, set when the model is built
        self.rng = None
        self._buffers = None

    # -- construction ----------------------------------------------------------------
    def build(self, input_dim):
        """Fix the input width; return the output width."""
        self.input_dim = int(input_dim)
        self.output_dim = self.input_dim
        return self.output_dim

    @property
    def built(self):
        return self.output_dim is not None

    def param_shapes(self):
        """Shapes of the trainable arrays, in the order of ``get_weights``."""
        return []

    def initial_params(self, rng, dtype):
        """Freshly initialised arrays, one per entry of :meth:`param_shapes`."""
        return []

    def bind(self, params, grads):
        """Receive views into the model's flat parameter and gradient vectors."""
        self.param_views, self.grad_views = list(params), list(grads)

    def allocate(self, batch_size, dtype):
        """Preallocate the buffers one training step needs for up to ``batch_size`` rows."""

    def release(self):
        self._buffers = None

    def penalty(self):
        """The regularization term this layer adds to the loss."""
        return 0.0

    # -- computation -----------------------------------------------------------------
    def forward(self, x, training=False, buffered=False):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_out, need_input_grad=True):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- description -----------------------------------------------------------------
    def count_params(self):
        return sum(math.prod(s) for s in self.param_shapes())

    def get_config(self):
        return {"name": self.layer_name} if self.layer_name else {}

    @property
    def display_name(self):
        return self.layer_name or type(self).__name__.lower()


class Dense(Layer):
    """Fully connected layer: ``a = σ(x · W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons (outputs).
    activation : str, Activation or None
        σ; None means linear.  See :mod:`glassnet.activations`.
    input_dim : int, optional
        Number of inputs; inferred from the data (or the previous layer) if omitted.
    kernel_initializer, bias_initializer : str, Initializer, (low, high) or number
        How W and b start.  ``(-1, 1)`` is seed 004's ``weightBounds``.
    use_bias : bool, default True
    kernel_regularizer : str, Regularizer or None
        Penalty on W added to the loss (see :mod:`glassnet.regularizers`).
    name : str, optional
    """

    name = "dense"

    def __init__(self, units, activation=None, input_dim=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 use_bias=True, kernel_regularizer=None, name=None):
        super().__init__(name)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, received {units!r}")
        if input_dim is not None and (isinstance(input_dim, bool)
                                      or not isinstance(input_dim, (int, np.integer))
                                      or input_dim < 1):
            raise ValueError(f"Dense input_dim must be a positive integer or None, "
                             f"received {input_dim!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.declared_input_dim = None if input_dim is None else int(input_dim)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.use_bias = bool(use_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.W = self.b = self.dW = self.db = None
        # the last forward's (x, z, a, buffers) and backward's dL/da and δ
        self._cache = self._grad_a = self._delta = None

    def build(self, input_dim):
        if self.declared_input_dim is not None and input_dim != self.declared_input_dim:
            raise ValueError(f"layer {self.display_name!r} was declared with input_dim="
                             f"{self.declared_input_dim} but receives {input_dim} inputs")
        self.input_dim = int(input_dim)
        self.output_dim = self.units
        return self.units

    def param_shapes(self):
        shapes = [(self.input_dim, self.units)]
        if self.use_bias:
            shapes.append((self.units,))
        return shapes

    def initial_params(self, rng, dtype):
        arrays = [self.kernel_initializer((self.input_dim, self.units), rng, dtype)]
        if self.use_bias:
            arrays.append(self.bias_initializer((self.units,), rng, dtype))
        return arrays

    def bind(self, params, grads):
        super().bind(params, grads)
        self.W, self.dW = params[0], grads[0]
        if self.use_bias:
            self.b, self.db = params[1], grads[1]

    def allocate(self, batch_size, dtype):
        def buf(width):
            return np.empty((batch_size, width), dtype=dtype)
        z = buf(self.units)                 # z and a share one buffer when σ is linear (a = z)
        a = z if isinstance(self.activation, activations.Linear) else buf(self.units)
        self._buffers = {"z": z, "a": a, "delta": buf(self.units), "dx": buf(self.input_dim)}

    # -- forward: z = x·W + b, a = σ(z) ----------------------------------------------------
    def forward(self, x, training=False, buffered=False):
        """Compute ``a = σ(x · W + b)`` for a batch ``x`` of shape (n, inputs).

        Keeps x, z and a for :meth:`backward`.  With ``buffered`` (used by
        ``fit``), the results are written into the layer's preallocated
        buffers instead of new arrays.
        """
        n = x.shape[0]
        bufs = self._buffers if buffered else None
        z = np.matmul(x, self.W, out=None if bufs is None else bufs["z"][:n])
        if self.use_bias:
            z += self.b
        # (a linear layer's "a" buffer is its "z" buffer: then a = z, nothing to copy)
        a_out = None if bufs is None or bufs["a"] is bufs["z"] else bufs["a"][:n]
        a = self.activation.forward(z, out=a_out)
        self._cache = (x, z, a, bufs)
        return a

    # -- backward: δ = dL/da ⊙ σ'(z), then dL/dW, dL/db, dL/dx -------------------------
    def backward(self, grad_out, need_input_grad=True):
        """Given ``dL/da`` (n, units), fill ``dW``, ``db`` and return ``dL/dx`` (n, inputs)."""
        x, z, a, bufs = self._cache
        self._grad_a = grad_out                  # kept, like x, z and a, for model.trace
        out = None if bufs is None else bufs["delta"][:grad_out.shape[0]]
        delta = self.activation.backward(z, a, grad_out, out=out)
        return self.backward_from_delta(delta, need_input_grad)

    def backward_from_delta(self, delta, need_input_grad=True):
        """Given ``δ = dL/dz`` (n, units), fill ``dW``, ``db`` and return ``dL/dx``.

        The model calls this directly when the loss supplies δ in fused form
        (softmax + cross-entropy, sigmoid + binary cross-entropy).
        """
        x, _, _, bufs = self._cache
        self._delta = delta
        np.matmul(x.T, delta, out=self.dW)                      # dL/dW = xᵀ δ
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(self.W, self.dW)
        if self.use_bias:
            np.add.reduce(delta, axis=0, out=self.db)           # dL/db = Σ_i δ_i
        if not need_input_grad:
            return None
        out = None if bufs is None else bufs["dx"][:delta.shape[0]]
        return np.matmul(delta, self.W.T, out=out)              # dL/dx = δ Wᵀ

    def penalty(self):
        """The regularization term R(W) this layer adds to the loss (0 if none)."""
        return 0.0 if self.kernel_regularizer is None else self.kernel_regularizer.penalty(self.W)

    def get_config(self):
        config = {"units": self.units, "activation": activations.serialize(self.activation),
                  "input_dim": self.declared_input_dim,
                  "kernel_initializer": initializers.serialize(self.kernel_initializer),
                  "bias_initializer": initializers.serialize(self.bias_initializer),
                  "use_bias": self.use_bias,
                  "kernel_regularizer": None if self.kernel_regularizer is None
                  else regularizers.serialize(self.kernel_regularizer)}
        return {**config, **super().get_config()}

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation.name!r})"


class Dropout(Layer):
    """Inverted dropout: while training, zero each input with probability ``rate``.

    The survivors are scaled by ``1 / (1 - rate)`` so that the expected value of
    every unit is unchanged; at inference the layer is the identity.  With the
    random mask ``m`` (entries 0 or 1/(1-rate)):

        forward:  a = x ⊙ m            backward:  dL/dx = dL/da ⊙ m

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs to drop.
    """

    name = "dropout"

    def __init__(self, rate, name=None):
        super().__init__(name)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), received {rate!r}")
        self.rate = rate
        self._mask = None

    def allocate(self, batch_size, dtype):
        self._buffers = {"mask": np.empty((batch_size, self.input_dim), dtype=dtype),
                         "a": np.empty((batch_size, self.input_dim), dtype=dtype)}

    def forward(self, x, training=False, buffered=False):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        n = x.shape[0]
        bufs = self._buffers if buffered else None
        if bufs is None:
            mask = self.rng.random(x.shape, dtype=x.dtype)
        else:
            mask = bufs["mask"][:n]
            self.rng.random(out=mask, dtype=x.dtype)
        # keep with probability 1 - rate, scaled so E[a] = x
        keep = mask >= self.rate
        np.multiply(keep, 1.0 / (1.0 - self.rate), out=mask)
        self._mask = mask
        return np.multiply(x, mask, out=None if bufs is None else bufs["a"][:n])

    def backward(self, grad_out, need_input_grad=True):
        if not need_input_grad:
            return None
        return grad_out if self._mask is None else grad_out * self._mask

    def get_config(self):
        return {"rate": self.rate, **super().get_config()}

    def __repr__(self):
        return f"Dropout({self.rate})"


class Rescaling(Layer):
    """``a = x · scale + offset``: input scaling that travels with the model.

    Put it first so that a saved model takes raw inputs (e.g. pixels 0..255
    with ``scale=1/255``).  No trainable parameters; ``dL/dx = dL/da · scale``.
    """

    name = "rescaling"

    def __init__(self, scale, offset=0.0, name=None):
        super().__init__(name)
        self.scale, self.offset = float(scale), float(offset)
        if not (np.isfinite(self.scale) and np.isfinite(self.offset)) or self.scale == 0:
            raise ValueError(f"Rescaling needs a finite non-zero scale and a finite offset; "
                             f"received scale={scale!r}, offset={offset!r}")

    def forward(self, x, training=False, buffered=False):
        a = x * np.asarray(self.scale, dtype=x.dtype)
        if self.offset:
            a += np.asarray(self.offset, dtype=x.dtype)
        return a

    def backward(self, grad_out, need_input_grad=True):
        return grad_out * np.asarray(self.scale, dtype=grad_out.dtype) if need_input_grad \
            else None

    def get_config(self):
        return {"scale": self.scale, "offset": self.offset, **super().get_config()}

    def __repr__(self):
        return f"Rescaling({self.scale!r}, offset={self.offset!r})"


_LAYERS = {"dense": Dense, "dropout": Dropout, "rescaling": Rescaling}


def get(config):
    """Rebuild a layer from ``{"class": "dense", "config": {...}}`` (what saving writes)."""
    if not isinstance(config, dict) or config.get("class") not in _LAYERS \
            or not isinstance(config.get("config"), dict):
        raise ValueError(f"unknown layer description {config!r}; valid layer classes are: "
                         f"{', '.join(sorted(_LAYERS))}")
    try:
        return _LAYERS[config["class"]](**config["config"])
    except TypeError as exc:
        raise ValueError(f"invalid arguments for layer {config['class']!r}: {exc}") from None


def serialize(layer):
    return {"class": layer.name, "config": layer.get_config()}


# ----------------------------------------------------------------------------------------
# Seed 001's two bias conventions
# ----------------------------------------------------------------------------------------

def fold_bias(W, b):
    """Fold a separate bias into the kernel as the weight of a constant input 1.

    ``x · W + b  ==  [x, 1] · fold_bias(W, b)``

    Parameters
    ----------
    W : array of shape (inputs, units)
    b : array of shape (units,)

    Returns
    -------
    W_aug : array of shape (inputs + 1, units); its last row is ``b``.
    """
    W = np.asarray(W)
    b = np.asarray(b).reshape(-1)
    if W.ndim != 2 or b.shape[0] != W.shape[1]:
        raise ValueError(f"fold_bias expects W of shape (inputs, units) and b of shape "
                         f"(units,); received W {W.shape} and b {b.shape}")
    return np.vstack([W, b[None, :]])


def unfold_bias(W_aug):
    """Split an augmented kernel (last row = bias) back into ``(W, b)``; see :func:`fold_bias`."""
    W_aug = np.asarray(W_aug)
    if W_aug.ndim != 2 or W_aug.shape[0] < 2:
        raise ValueError(f"unfold_bias expects an array of shape (inputs + 1, units) with "
                         f"inputs >= 1; received shape {W_aug.shape}")
    return W_aug[:-1].copy(), W_aug[-1].copy()
