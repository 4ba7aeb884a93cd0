"""Initializers as Keras code writes them: bias_initializer=None, array constants."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import initializers


def test_bias_initializer_none_means_zeros():
    assert isinstance(initializers.get(None), initializers.Zeros)
    model = gn.Sequential([gn.Dense(3, input_dim=2, bias_initializer=None)], seed=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[1], np.zeros(3, np.float32))


def test_array_constant_starts_a_bias_at_the_class_prior_log_odds(tmp_path, rng):
    # Keras's imbalanced-data recipe: output bias = log(pos / neg)
    pos, neg = 10, 90
    bias = np.log([pos / neg])
    model = gn.Sequential([gn.Dense(1, "sigmoid", input_dim=4,
                                    bias_initializer=initializers.Constant(bias))], seed=0)
    np.testing.assert_allclose(model.layers[0].get_weights()[1], bias, rtol=1e-6)
    # with zero inputs the model predicts the prior
    assert model.predict(np.zeros((1, 4)))[0, 0] == pytest.approx(pos / (pos + neg), rel=1e-5)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.save(tmp_path / "prior.glassnet")
    loaded = gn.load_model(tmp_path / "prior.glassnet")
    assert loaded.layers[0].bias_initializer.get_config() == {"value": bias.tolist()}


def test_array_constants_broadcast_to_the_shape():
    init = initializers.Constant([[1.0], [2.0]])
    np.testing.assert_array_equal(init((2, 3), None, np.float64), [[1, 1, 1], [2, 2, 2]])
    assert initializers.get(np.array([0.5, 1.5]))((2,), None).tolist() == [0.5, 1.5]
    assert initializers.get(np.float32(2.0))((2,), None).tolist() == [2.0, 2.0]
    clone = initializers.get(initializers.serialize(init))
    np.testing.assert_array_equal(clone((2, 3), None), init((2, 3), None))


def test_a_constant_of_the_wrong_shape_says_both_shapes():
    with pytest.raises(ValueError, match=r"shape \(2,\) cannot fill a weight of shape \(3,\)"):
        gn.Sequential([gn.Dense(3, input_dim=2,
                                bias_initializer=initializers.Constant([1.0, 2.0]))])


@pytest.mark.parametrize("bad", [float("nan"), [1.0, float("inf")], "one", [[1.0], [2.0, 3.0]]])
def test_a_constant_must_be_finite_numbers(bad):
    with pytest.raises(ValueError, match="Constant value must be a finite number"):
        initializers.Constant(bad)
