"""Property-based tests of the public API over shapes, dtypes and values."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

import glassnet as gn
from glassnet import activations

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.int8, np.bool_])


@st.composite
def networks(draw):
    n_in = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    acts = draw(st.lists(st.sampled_from([a for a in activations.names() if a != "step"]),
                         min_size=len(widths), max_size=len(widths)))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    model = gn.Sequential([gn.Dense(w, a) for w, a in zip(widths, acts)], dtype=dtype,
                          seed=draw(st.integers(0, 2 ** 16)))
    model.build(n_in)
    return model


@SETTINGS
@given(model=networks(), n=st.integers(1, 9), dtype=dtypes, data=st.data())
def test_predict_shape_dtype_and_finiteness(model, n, dtype, data):
    x = data.draw(arrays(dtype, (n, model.input_dim),
                         elements=finite if np.dtype(dtype).kind == "f" else None))
    out = model.predict(x)
    assert out.shape == (n, model.output_dim)
    assert out.dtype == model.dtype
    assert np.isfinite(out).all()
    # batching changes only the BLAS kernel, so results agree to rounding
    np.testing.assert_allclose(out, model.predict(x, batch_size=1 + n // 2), rtol=1e-5, atol=1e-6)


@SETTINGS
@given(model=networks(), extra=st.integers(1, 3), n=st.integers(1, 5))
def test_wrong_feature_count_names_both_numbers(model, extra, n):
    x = np.zeros((n, model.input_dim + extra))
    with pytest.raises(ValueError, match=f"{model.input_dim + extra} features per sample but "
                                         f"the model expects {model.input_dim}"):
        model.predict(x)


@SETTINGS
@given(model=networks(), n=st.integers(1, 6), bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       data=st.data())
def test_any_non_finite_input_is_refused(model, n, bad, data):
    x = np.zeros((n, model.input_dim))
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, model.input_dim - 1))
    x[i, j] = bad
    with pytest.raises(ValueError, match=rf"first at index \({i}, {j}\)"):
        model.predict(x)


@SETTINGS
@given(model=networks(), n=st.integers(2, 12), batch=st.integers(1, 12), data=st.data())
def test_fit_on_any_valid_regression_data_gives_finite_history(model, n, batch, data):
    x = data.draw(arrays(np.float64, (n, model.input_dim), elements=st.floats(-3, 3)))
    y = data.draw(arrays(np.float64, (n, model.output_dim), elements=st.floats(-3, 3)))
    model.compile(loss="mse", optimizer=gn.SGD(0.01))
    history = model.fit(x, y, epochs=2, batch_size=batch, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(np.isfinite(history.history["loss"]))
    assert model.optimizer.iterations == 2 * -(-n // min(batch, n))


@settings(max_examples=15, deadline=None)
@given(model=networks())
def test_save_load_round_trip_for_any_architecture(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "m.glassnet"
    model.save(path)
    loaded = gn.load_model(path)
    x = np.random.default_rng(0).normal(size=(3, model.input_dim))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        assert a.dtype == b.dtype and np.array_equal(a, b)


@SETTINGS
@given(z=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                elements=st.floats(-1e4, 1e4)),
       name=st.sampled_from(activations.names()))
def test_activations_never_overflow(z, name):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = activations.get(name).forward(z.copy())
    assert np.isfinite(a).all()
    if name == "softmax":
        np.testing.assert_allclose(a.sum(axis=1), 1.0)
