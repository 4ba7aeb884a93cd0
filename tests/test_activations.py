import numpy as np
import pytest

from glassnet import activations
from conftest import numeric_grad

TRAINABLE = [n for n in activations.names() if n != "step"]


@pytest.mark.parametrize("name", TRAINABLE)
def test_backward_matches_finite_differences(name, rng):
    act = activations.get(name)
    z = rng.normal(size=(5, 4)) * 2
    z[np.abs(z) < 1e-3] = 0.5          # keep away from ReLU's kink
    upstream = rng.normal(size=z.shape)

    def loss(zz):
        return float((act.forward(zz) * upstream).sum())

    a = act.forward(z.copy())
    analytic = act.backward(z, a, upstream)
    np.testing.assert_allclose(analytic, numeric_grad(loss, z), rtol=1e-5, atol=1e-7)


KNOWN = {
    "linear": ([-2.0, 0.0, 3.0], [-2.0, 0.0, 3.0]),
    "sigmoid": ([-np.log(3), 0.0, np.log(3)], [0.25, 0.5, 0.75]),
    "tanh": ([-np.log(2), 0.0, np.log(2)], [-0.6, 0.0, 0.6]),
    "relu": ([-2.0, 0.0, 3.0], [0.0, 0.0, 3.0]),
    "leaky_relu": ([-2.0, 0.0, 3.0], [-0.02, 0.0, 3.0]),
    "elu": ([-np.log(2), 0.0, 3.0], [-0.5, 0.0, 3.0]),
    "softplus": ([0.0, np.log(3), -50.0], [np.log(2), np.log(4), np.exp(-50.0)]),
    "swish": ([0.0, np.log(3), -np.log(3)], [0.0, 0.75 * np.log(3), -0.25 * np.log(3)]),
    "step": ([-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_values(name):
    z, expected = KNOWN[name]
    out = activations.get(name).forward(np.array([z]))
    np.testing.assert_allclose(out[0], expected, rtol=1e-12, atol=1e-300)


def test_softmax_known_values_and_rows_sum_to_one():
    z = np.array([[0.0, np.log(2), np.log(5)], [1000.0, 1000.0, 1000.0]])
    a = activations.get("softmax").forward(z)
    np.testing.assert_allclose(a[0], [1 / 8, 2 / 8, 5 / 8])
    np.testing.assert_allclose(a[1], [1 / 3] * 3)


@pytest.mark.parametrize("name", activations.names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_inputs(name, dtype):
    act = activations.get(name)
    z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=dtype)
    # underflow to 0 is the right answer here; overflow, 0/0 and x/0 are not
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = act.forward(z.copy())
        assert np.isfinite(a).all()
        assert a.dtype == dtype
        if act.trainable:
            g = act.backward(z, a, np.ones_like(z))
            assert np.isfinite(g).all()


@pytest.mark.parametrize("name", activations.names())
def test_forward_and_backward_leave_their_inputs_unchanged(name, rng):
    # the layer records z and a, and backward reads them: nothing may write into them
    act = activations.get(name)
    z = rng.normal(size=(6, 3)).astype(np.float32)
    z_before = z.copy()
    a = act.forward(z)
    np.testing.assert_array_equal(z, z_before)
    if act.trainable:
        a_before, up = a.copy(), rng.normal(size=z.shape).astype(np.float32)
        up_before = up.copy()
        act.backward(z, a, up)
        for array, before in ((z, z_before), (a, a_before), (up, up_before)):
            np.testing.assert_array_equal(array, before)


def test_step_cannot_be_trained():
    with pytest.raises(TypeError, match="cannot be trained"):
        activations.get("step").backward(np.zeros((1, 1)), np.zeros((1, 1)), np.ones((1, 1)))


def test_get_accepts_names_aliases_objects_and_configs():
    assert isinstance(activations.get("ReLU"), activations.ReLU)
    assert isinstance(activations.get("silu"), activations.Swish)
    assert isinstance(activations.get(None), activations.Linear)
    leaky = activations.get({"name": "leaky_relu", "negative_slope": 0.2})
    assert leaky.negative_slope == 0.2
    assert activations.get(leaky) is leaky
    np.testing.assert_allclose(leaky.forward(np.array([[-1.0]])), [[-0.2]])


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'relu6'.*valid names are:.*sigmoid"):
        activations.get("relu6")
