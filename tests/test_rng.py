"""tinygrad_dl/rng.py: resolve_rng and manual_seed, the default generator's seed."""

import numpy as np
import pytest

import tinygrad_dl as tg
from tinygrad_dl import nn


def _draw_everything():
    layer = nn.Linear(3, 2)
    dropped = nn.Dropout(0.5)(tg.Tensor(np.ones(8)))
    loader = tg.data.DataLoader(np.zeros((6, 1)), np.arange(6), batch_size=1, shuffle=True)
    order = [int(np.asarray(y)[0]) for _, y in loader]
    return layer.weight.data.copy(), dropped.data.copy(), order, tg.randn(3).data.copy()


def test_manual_seed_makes_initialisers_dropout_shuffling_and_factories_reproducible():
    tg.manual_seed(7)
    first = _draw_everything()
    tg.manual_seed(7)
    second = _draw_everything()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(8)
    third = _draw_everything()
    assert not np.array_equal(first[0], third[0])


def test_manual_seed_is_the_course_np_random_seed():
    tg.manual_seed(1)
    ours = tg.randn(4).data
    np.random.seed(1)
    np.testing.assert_array_equal(ours, np.random.randn(4))


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), (-1, ValueError)])
def test_manual_seed_refuses_a_bad_seed(seed, error):
    with pytest.raises(error, match=r"manual_seed"):
        tg.manual_seed(seed)
