"""checker/compare.py: the diagnosis names the mistake from the numbers, and tolerances follow
the dtype (a float32 result is never failed for float32 rounding)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_dl.course.checker.compare import diagnose, diagnose_all, tolerance
from tinygrad_dl.course.checker.load import Opaque
from tinygrad_dl.testing import float_arrays

MATRICES = float_arrays(st.tuples(st.integers(2, 5), st.integers(2, 5)), away_from=0.0)


@given(MATRICES)
def test_a_matching_value_passes_and_any_rounding_level_difference_too(expected):
    assert diagnose("f", "dW", expected, expected) is None
    assert diagnose("f", "dW", expected * (1 + 1e-12), expected) is None


@given(MATRICES, st.integers(2, 9))
def test_a_factor_m_or_1_over_m_is_named_with_m(expected, m):
    text = diagnose("linear_backward", "dW", expected * m, expected, m=m)
    assert text == (
        f"linear_backward: dW is {m:.2f} x the right value (m = {m}): is the 1/m missing?"
    )
    assert "divided by m twice" in diagnose("f", "dW", expected / m, expected, m=m)


@given(MATRICES)
def test_a_sign_flip_and_a_transpose_are_named(expected):
    assert "has the wrong sign" in diagnose("f", "dW", -expected, expected)
    if expected.shape[0] != expected.shape[1]:
        text = diagnose("f", "dW", expected.T, expected)
        assert f"has shape {expected.T.shape}, expected {expected.shape}: it is transposed" in text


def test_a_sum_over_the_wrong_axis_is_named_from_the_shape():
    dZ = np.arange(12.0).reshape(3, 4)
    expected = dZ.sum(axis=1, keepdims=True) / 4
    for wrong in (dZ.sum(axis=0, keepdims=True) / 4, dZ.sum() / 4 * np.ones(4)):
        assert "is the sum over the wrong axis?" in diagnose(
            "linear_backward", "db", wrong, expected
        )
    text = diagnose("linear_backward", "db", expected.ravel(), expected)
    assert "keep the column shape" in text


def test_a_named_alternative_explains_the_value_and_the_layer_is_named():
    expected, wrong = np.array([[1.0, 2.0]]), np.array([[1.0, 3.0]])
    text = diagnose("f", "dW", wrong, expected, layer=2, candidates=[("uses relu's g'", wrong)])
    assert text == "f: dW (layer 2): uses relu's g'"


def test_the_fallback_gives_the_relative_difference_and_the_first_differing_element():
    expected = np.array([[1.0, 2.0, 3.0]])
    text = diagnose("f", "A", np.array([[1.0, 2.5, 3.7]]), expected)
    assert (
        "relative difference" in text
        and "first difference at [0, 1]: yours 2.5, expected 2" in text
    )


def test_missing_or_non_numeric_values_and_nan_are_named():
    assert "is missing" in diagnose("f", "dW", None, np.ones((2, 2)))
    assert "is a function" in diagnose("f", "dW", Opaque("function"), np.ones((2, 2)))
    assert "contains NaN" in diagnose("f", "dW", np.full((2, 2), np.nan), np.ones((2, 2)))
    problem = diagnose_all("f", {"dW1": 1.0}, {"dW1": 1.0, "db1": 2.0}, ["dW1", "db1"])
    assert problem == "f: db1 is missing from the returned dict (it holds dW1)"


@given(float_arrays((3, 4), dtype=np.float32, away_from=0.0))
def test_float32_results_pass_at_float32_rounding_but_float64_is_held_to_more(expected):
    rounded = (expected.astype(np.float64) * (1 + 1.2e-7)).astype(np.float32)
    assert diagnose("f", "A", rounded, expected.astype(np.float64)) is None
    assert tolerance(np.float32(1)) > 1e-5 > tolerance(np.float64(1)) / 10
    off = expected.astype(np.float64) * (1 + 1e-5)
    assert diagnose("f", "A", off, expected.astype(np.float64)) is not None


def test_a_scalar_and_a_size_one_array_compare_equal():
    assert diagnose("compute_cost", "cost", np.array([[0.25]]), 0.25) is None
    assert "is twice the right value" in diagnose("compute_cost", "cost", 0.5, 0.25)
