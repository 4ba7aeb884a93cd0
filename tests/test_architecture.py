"""The seams a newcomer builds on: train_step, the layer contract, the registry, the imports."""
import ast
import pathlib

import numpy as np
import pytest

import glassnet as gn
from glassnet import activations, losses, metrics

SRC = pathlib.Path(gn.__file__).parent


# -- any layer may be last ------------------------------------------------------------------

@pytest.mark.parametrize("last, loss, metric", [
    (lambda: gn.Dropout(0.2), "mse", "mae"), (lambda: gn.Rescaling(2.0), "mse", "mae"),
    (lambda: gn.BatchNormalization(), "mse", "mae"), (lambda: gn.Dropout(0.2), "mse", "accuracy"),
    (lambda: gn.BatchNormalization(), "mae", "accuracy"),
    (lambda: gn.Dropout(0.2), "binary_crossentropy", "accuracy"),
    # (probabilities must stay in [0, 1] for binary cross-entropy)
    (lambda: gn.Rescaling(0.5, offset=0.25), "binary_crossentropy", "accuracy")])
def test_any_layer_may_come_last_with_any_metric(last, loss, metric, rng):
    model = gn.Sequential([gn.Dense(4, "relu"), gn.Dense(1, "sigmoid"), last()], seed=0)
    model.compile(loss=loss, optimizer="sgd", metrics=[metric])
    x = rng.normal(size=(40, 3))
    y = (x[:, :1] > 0).astype(float)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.25)
    assert len(history.history[metric]) == 2 and len(history.history["val_" + metric]) == 2
    out = model.predict(x)
    # the metric fit reports is the metric of the model's own output
    logs = model.evaluate(x, y, return_dict=True)
    assert logs[metric] == pytest.approx(model.metrics[0](y.astype(np.float32), out))


# -- train_step is the seam ----------------------------------------------------------------

def test_overriding_train_step_changes_what_a_step_does(rng):
    class Clipped(gn.Sequential):
        """Gradient clipping: one method, the loop untouched."""
        def train_step(self, x, y, sample_weight=None):
            loss = self.compute_loss_and_gradients(x, y, sample_weight, training=True)
            np.clip(self.grads, -1e-3, 1e-3, out=self.grads)
            self.optimizer.step(self.params, self.grads)
            return {"loss": loss}

    x = rng.normal(size=(32, 3))
    y = x.sum(axis=1, keepdims=True) * 100
    model = Clipped([gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(1.0))
    model.build(3)
    before = model.get_weights()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    change = [np.abs(a - b).max() for a, b in zip(model.get_weights(), before)]
    assert max(change) == pytest.approx(1e-3, rel=1e-4)      # every step clipped to 1e-3


def _bn_model(seed=3):
    return gn.Sequential([gn.Dense(8, "tanh"), gn.BatchNormalization(), gn.Dropout(0.2),
                          gn.Dense(3, "softmax")], seed=seed)


def test_loss_and_gradients_and_trace_inside_fit_leave_training_bit_identical(rng):
    x = rng.normal(size=(50, 4))
    y = rng.integers(0, 3, size=50)

    class Peek(gn.Callback):
        def on_batch_end(self, batch, logs=None):
            loss, grads = self.model.loss_and_gradients(x[:5], y[:5])
            assert np.isfinite(loss) and len(grads) == 6
            tr = self.model.trace(x[0], y[0])
            assert tr.loss > 0

    runs = []
    for callbacks in ([], [Peek()]):
        model = _bn_model()
        model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(0.01),
                      metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=callbacks)
        runs.append((model.get_weights(), history.history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]


# -- names -------------------------------------------------------------------------------

def test_layer_name_is_the_users_and_automatic_names_are_unique():
    model = gn.Sequential([gn.Dense(3, name="hidden"), gn.Dense(3), gn.Dropout(0.1),
                           gn.Dense(2), gn.Dropout(0.1)])
    assert [layer.name for layer in model.layers] == ["hidden", "dense", "dropout", "dense_1",
                                                      "dropout_1"]
    assert model.get_layer("dense_1") is model.layers[3]
    with pytest.raises(ValueError, match="already has a layer named 'hidden'"):
        model.add(gn.Dense(1, name="hidden"))


# -- the registry ----------------------------------------------------------------------------

class Cube(activations.Activation):
    """a = z³, σ'(z) = 3z²."""
    name = "cube"

    def forward(self, z, steps=None):
        return z ** 3

    def backward(self, z, a, grad_a):
        return grad_a * 3 * z ** 2

    def to_onnx(self, graph, z):
        return graph.op("Mul", [z, graph.op("Mul", [z, z])])


class Quartic(losses.Loss):
    """l = mean (ŷ - y)⁴."""
    name = "quartic"

    def per_sample(self, y_true, y_pred):
        return ((y_pred - y_true) ** 4).mean(axis=1)

    def gradient(self, y_true, y_pred, sample_weight=None):
        g = 4 * (y_pred - y_true) ** 3 / y_pred.size
        return g if sample_weight is None else g * sample_weight[:, None]


class WithinHalf(metrics.Metric):
    def per_sample(self, y_true, y_pred):
        return (np.abs(y_pred - y_true) < 0.5).mean(axis=1)


class Scale(gn.layers.Layer):
    """a = x ⊙ s with a trained vector s; ds = Σ dL/da ⊙ x, dL/dx = dL/da ⊙ s."""
    param_names = ("s",)

    def param_shapes(self):
        return [(self.input_dim,)]

    def initial_weights(self, dtype):
        return [np.full(self.input_dim, 0.5, dtype)]

    def bind(self, weights, grads):
        super().bind(weights, grads)
        (self.s,), (self.ds,) = weights, grads

    def forward(self, x, training=False):
        a = x * self.s
        self.record = gn.layers.Record(x=x, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        np.add.reduce(grad_a * self.record.x, axis=0, out=self.ds)
        return grad_a * self.s if need_input_grad else None


@pytest.fixture
def custom_objects():
    for cls in (Cube, Quartic, WithinHalf, Scale):
        gn.register(cls)
    yield
    for registry in gn._registry.KINDS.values():
        for key in [k for k, c in registry.classes.items()
                    if c in (Cube, Quartic, WithinHalf, Scale)]:
            del registry.classes[key]


def test_custom_activation_loss_metric_and_layer_save_and_load_by_name(custom_objects, tmp_path,
                                                                      rng):
    x = rng.normal(size=(30, 3))
    y = x[:, :1] * 0.1
    model = gn.Sequential([Scale(), gn.Dense(4, "cube"), gn.Dense(1)], seed=0)
    model.compile(loss="quartic", optimizer=gn.Adam(0.01), metrics=[WithinHalf(), "mae"])
    model.fit(x, y, epochs=3, batch_size=10, verbose=0)
    assert "within_half" in model.history.history
    model.save(tmp_path / "custom.glassnet")
    loaded = gn.load_model(tmp_path / "custom.glassnet")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert isinstance(loaded.layers[0], Scale) and isinstance(loaded.loss, Quartic)
    assert loaded.layers[1].activation == Cube()
    assert [m.name for m in loaded.metrics] == ["within_half", "mae"]
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)
    # the same objects by name, and the trained model trains on identically after loading
    model.fit(x, y, epochs=1, batch_size=10, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=10, verbose=0, shuffle=False)
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_loading_an_unregistered_custom_object_says_which_name_to_register(tmp_path, rng):
    gn.register(Cube)
    model = gn.Sequential([gn.Dense(2, "cube", input_dim=3)])
    model.save(tmp_path / "cube.glassnet")
    del activations.REGISTRY.classes["cube"]
    with pytest.raises(ValueError, match=r"unknown activation 'cube'.*glassnet.register"):
        gn.load_model(tmp_path / "cube.glassnet")


def test_register_refuses_builtin_names_and_non_glassnet_classes():
    class Mine(activations.Activation):
        name = "relu"
    with pytest.raises(ValueError, match="built-in activation ReLU"):
        gn.register(Mine)
    with pytest.raises(ValueError, match="register expects a subclass of one of"):
        gn.register(dict)


def test_every_kind_has_one_registry():
    kinds = set(gn._registry.KINDS)
    assert kinds == {"activation", "loss", "initializer", "regularizer", "optimizer",
                     "learning-rate schedule", "metric", "callback", "layer", "model"}


# -- the house itself: no import circles ---------------------------------------------------------

def _modules():
    """Module name (relative to glassnet, "" for the package itself) → source path."""
    out = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(module, path, modules):
    """The glassnet modules ``module`` imports at its top level."""
    is_package = path.name == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    package = [p for p in package if p]
    deps = set()
    for node in ast.parse(path.read_text()).body:
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = package[:len(package) - (node.level - 1)]
        target = ".".join(base + (node.module.split(".") if node.module else []))
        for alias in node.names:      # "from . import x" may name a submodule
            sub = f"{target}.{alias.name}" if target else alias.name
            deps.add(sub if sub in modules else target)
    deps.discard(module)
    return deps


def test_no_glassnet_import_hides_inside_a_function():
    # function-local imports are for optional dependencies only
    offenders = []
    for module, path in _modules().items():
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.level or (
                            node.module or "").startswith("glassnet")):
                        offenders.append(f"{module}.{fn.name}")
    assert offenders == []


def test_module_imports_form_no_circle():
    modules = _modules()
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    done, stack = set(), []

    def visit(node):
        if node in stack:
            circle = stack[stack.index(node):] + [node]
            raise AssertionError("import circle: " + " -> ".join(m or "glassnet" for m in circle))
        if node in done:
            return
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            visit(dep)
        stack.pop()
        done.add(node)

    for module in sorted(graph):
        visit(module)
    assert "model" in graph and "trainer" in graph["model"]
