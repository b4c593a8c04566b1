"""Tests for tinygrad_dl.nn: Module, Parameter, layers, initialisers, state dicts."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.serialization import StateDictError
from tinygrad_dl.testing import tensors, weighted_sum


def _shallow(rng=0, hidden=4):
    return nn.Sequential(nn.Linear(2, hidden, rng=rng), nn.Tanh(), nn.Linear(hidden, 1, rng=rng))


# -- Linear ----------------------------------------------------------------------------------


@given(
    m=st.integers(1, 6),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
def test_linear_is_x_wt_plus_b_and_the_course_layout_transposed(m, n_in, n_out, seed):
    layer = nn.Linear(n_in, n_out, rng=seed)
    assert layer.weight.shape == (n_out, n_in) and layer.bias.shape == (n_out,)
    x = np.random.default_rng(seed).standard_normal((m, n_in))
    out = layer(tg.Tensor(x))
    W, b = layer.weight.data, layer.bias.data
    np.testing.assert_allclose(out.data, x @ W.T + b, rtol=1e-12, atol=1e-12)
    # The course: Z = W X + b with X = x.T of shape (n_x, m), b of shape (n, 1).
    Z_course = W @ x.T + b.reshape(-1, 1)
    np.testing.assert_allclose(out.data, Z_course.T, rtol=1e-12, atol=1e-12)


def test_linear_gradients_are_the_course_formulas():
    rng = np.random.default_rng(1)
    layer = nn.Linear(3, 2, rng=1)
    x = rng.standard_normal((5, 3))
    upstream = rng.standard_normal((5, 2))  # dZ^T
    out = layer(x)
    out.backward(upstream)
    dZ = upstream.T  # (n, m) in the course's layout
    # dW = dZ A_prev^T and db = sum(dZ) (the 1/m lives in the loss here).
    np.testing.assert_allclose(layer.weight.grad.data, dZ @ x, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, dZ.sum(axis=1), rtol=1e-12)


@given(st.data())
def test_linear_passes_gradcheck_for_weight_bias_and_input(data):
    m, n_in, n_out = (data.draw(st.integers(1, 4)) for _ in range(3))
    layer = nn.Linear(n_in, n_out, rng=data.draw(st.integers(0, 100)))
    x = data.draw(tensors((m, n_in)))

    def f(x, W, b):
        return weighted_sum(nn.functional.linear(x, W, b))

    assert tg.gradcheck(f, (x, layer.weight, layer.bias))


def test_linear_second_derivatives_pass_gradgradcheck():
    layer = nn.Linear(3, 2, rng=4)
    x = tg.Tensor(np.random.default_rng(4).standard_normal((4, 3)), requires_grad=True)

    def f(x, W, b):
        return nn.functional.linear(x, W, b).tanh()

    assert tg.gradgradcheck(f, (x, layer.weight, layer.bias))


def test_linear_accepts_batched_and_single_inputs():
    layer = nn.Linear(3, 2, rng=5)
    x = np.random.default_rng(5).standard_normal((2, 4, 3))
    out = layer(x)
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data, np.ones((2, 8)) @ x.reshape(8, 3))
    np.testing.assert_allclose(layer.bias.grad.data, [8.0, 8.0])
    single = layer(x[0, 0])
    assert single.shape == (2,)
    assert tg.gradcheck(lambda x: weighted_sum(layer(x)), (tg.Tensor(x[0], requires_grad=True),))


def test_linear_spends_nothing_on_the_gradient_of_data():
    layer = nn.Linear(3, 2, rng=0)
    x = tg.Tensor(np.ones((5, 3)))
    layer(x).sum().backward()
    assert x.grad is None and layer.weight.grad is not None


def test_linear_without_bias_has_no_bias_parameter():
    layer = nn.Linear(3, 2, bias=False, rng=0)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    np.testing.assert_allclose(layer(np.ones((1, 3))).data, layer.weight.data.sum(axis=1)[None])


def test_linear_rejects_wrong_feature_count_naming_the_shapes():
    layer = nn.Linear(2, 4, rng=0)
    with pytest.raises(ValueError, match=r"in_features=2.*\(2, 400\).*X\.T"):
        layer(np.zeros((2, 400)))


def test_linear_rejects_bad_sizes_and_init_names():
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="unknown init 'gaussian'"):
        nn.Linear(2, 3, init="gaussian")


def test_linear_float32_stays_float32():
    layer = nn.Linear(3, 2, rng=0, dtype=np.float32)
    out = layer(np.ones((4, 3), dtype=np.float32))
    assert layer.weight.dtype == np.float32 and out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32


# -- initialisers ----------------------------------------------------------------------------


def test_default_init_is_pytorch_uniform_bound():
    layer = nn.Linear(16, 500, rng=0)
    bound = 1 / math.sqrt(16)
    for p in (layer.weight.data, layer.bias.data):
        assert np.all(np.abs(p) <= bound)
        assert np.abs(p).max() > 0.9 * bound  # fills the interval, not a narrower one


def test_seeded_layers_are_reproducible_and_seeds_differ():
    a, b, c = nn.Linear(3, 4, rng=7), nn.Linear(3, 4, rng=7), nn.Linear(3, 4, rng=8)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)


def test_rng_none_follows_numpy_global_seed():
    np.random.seed(3)
    a = nn.Linear(3, 4)
    np.random.seed(3)
    b = nn.Linear(3, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_course_init_with_shared_randomstate_reproduces_course_initialize_parameters():
    shallow = pytest.importorskip("tinygrad_dl.course.shallow", reason="course module missing")
    params = shallow.initialize_parameters(2, 4, 1, seed=2)
    rng = np.random.RandomState(2)
    model = nn.Sequential(
        nn.Linear(2, 4, init="course", rng=rng), nn.Tanh(), nn.Linear(4, 1, init="course", rng=rng)
    )
    np.testing.assert_array_equal(model[0].weight.data, params["W1"])
    np.testing.assert_array_equal(model[2].weight.data, params["W2"])
    np.testing.assert_array_equal(model[0].bias.data, params["b1"].ravel())
    np.testing.assert_array_equal(model[2].bias.data, 0.0)


@pytest.mark.parametrize(
    "name, expected_std",
    [
        ("course", 0.01),
        ("he", math.sqrt(2 / 200)),
        ("xavier", math.sqrt(2 / (200 + 300))),
        ("xavier_uniform", math.sqrt(2 / (200 + 300))),
    ],
)
def test_initialisers_have_their_documented_spread(name, expected_std):
    layer = nn.Linear(200, 300, init=name, rng=0)
    std = layer.weight.data.std()
    assert abs(std / expected_std - 1) < 0.02, (name, std, expected_std)
    assert abs(layer.weight.data.mean()) < 0.05 * expected_std
    np.testing.assert_array_equal(layer.bias.data, 0.0)


def test_init_functions_draw_their_documented_distributions():
    rng = np.random.default_rng(0)
    bound = math.sqrt(2) * math.sqrt(3 / 400)
    w = nn.init.kaiming_uniform((300, 400), rng=rng)
    assert np.abs(w).max() <= bound and abs(w.std() / math.sqrt(2 / 400) - 1) < 0.02
    b = nn.init.default_uniform((5000,), fan_in=25, rng=rng, dtype=np.float32)
    assert b.dtype == np.float32 and np.abs(b).max() <= 0.2 and np.abs(b).max() > 0.19
    n = nn.init.normal((100, 100), mean=3.0, std=0.5, rng=rng)
    assert abs(n.mean() - 3.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    u = nn.init.uniform((100, 100), -2.0, -1.0, rng=rng)
    assert u.min() >= -2.0 and u.max() < -1.0
    with pytest.raises(ValueError, match="default_uniform: needs a weight shape"):
        nn.init.default_uniform((5,))


def test_zeros_init_and_custom_callable_init():
    np.testing.assert_array_equal(nn.Linear(3, 2, init="zeros").weight.data, 0.0)
    layer = nn.Linear(3, 2, init=lambda shape, rng, dtype: np.full(shape, 0.5, dtype=dtype))
    np.testing.assert_array_equal(layer.weight.data, 0.5)
    with pytest.raises(ValueError, match=r"init returned shape \(3,\)"):
        nn.Linear(3, 2, init=lambda shape, rng, dtype: np.zeros(3))


def test_init_fill_overwrites_in_place():
    layer = nn.Linear(4, 3, rng=0)
    before = layer.weight.data
    nn.init.fill_(layer.weight, nn.init.zeros)
    assert layer.weight.data is before
    np.testing.assert_array_equal(before, 0.0)


def test_init_functions_need_a_weight_shape_for_fans():
    with pytest.raises(ValueError, match="kaiming_normal: needs a weight shape"):
        nn.init.kaiming_normal((5,))


# -- Module ----------------------------------------------------------------------------------


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(1))
        self.body = _shallow()
        self.head = nn.Linear(1, 2, rng=1)
        self.not_a_param = np.zeros(3)

    def forward(self, x):
        return self.head(self.body(x) * self.scale)


def test_named_parameters_follow_assignment_order_with_dotted_names():
    net = _Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "scale",
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
        "head.weight",
        "head.bias",
    ]
    assert len(list(net.parameters())) == 7
    assert net.num_parameters() == 1 + (8 + 4) + (4 + 1) + (2 + 2)


def test_shared_parameter_is_listed_once():
    layer = nn.Linear(3, 3, rng=0)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias"]


def test_reassigning_attributes_updates_registration():
    net = _Net()
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="plain Tensor to parameter 'weight'"):
        net.head.weight = tg.Tensor(np.zeros((2, 1)))
    net.head = "gone"
    assert not any(name.startswith("head") for name, _ in net.named_parameters())
    del net.body
    assert list(net.named_parameters()) == []


def test_assigning_a_parameter_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_parameter_requires_grad_and_is_a_leaf():
    p = nn.Parameter([1.0, 2.0])
    assert p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert repr(p).startswith("Parameter containing:")
    # Ops on a Parameter give plain Tensors, not Parameters.
    assert type(p * 2) is tg.Tensor


def test_train_and_eval_switch_every_submodule():
    net = _Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_named_modules_and_children_use_dotted_names():
    net = _Net()
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "body", "body.0", "body.1", "body.2", "head"]
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "Linear"]
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "_Net" and visited.count("Linear") == 3


def test_model_can_be_cast_to_float32_and_back():
    model = _shallow()
    weight = model[0].weight
    assert model.float() is model
    assert weight.dtype == np.float32 and model[0].weight is weight
    out = model(np.ones((2, 2), dtype=np.float32))
    assert out.dtype == np.float32
    assert model.double()[0].weight.dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        model.to(np.int64)


def test_zero_grad_clears_every_gradient():
    net = _Net()
    net(np.ones((3, 2))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_repr_matches_pytorch_layout():
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.LeakyReLU(), nn.Dropout(0.2))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=4, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.01)\n"
        "  (2): Dropout(p=0.2)\n"
        ")"
    )


def test_sequential_indexing_slicing_and_append():
    model = _shallow()
    assert isinstance(model[0], nn.Linear) and isinstance(model[-1], nn.Linear)
    assert len(model) == 3 and len(model[:2]) == 2
    model.append(nn.Sigmoid())
    assert isinstance(model[3], nn.Sigmoid)
    with pytest.raises(IndexError, match="out of range for 4 modules"):
        model[7]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), np.tanh)


@pytest.mark.parametrize(
    "module, reference",
    [
        (nn.ReLU(), lambda z: np.maximum(z, 0)),
        (nn.LeakyReLU(), lambda z: np.where(z > 0, z, 0.01 * z)),
        (nn.LeakyReLU(0.2), lambda z: np.where(z > 0, z, 0.2 * z)),
        (nn.Tanh(), np.tanh),
        (nn.Sigmoid(), lambda z: 1 / (1 + np.exp(-z))),
        (nn.Identity(), lambda z: z),
    ],
)
def test_activation_modules_compute_their_function(module, reference):
    z = np.linspace(-3, 3, 13).reshape(1, -1) + 0.01
    np.testing.assert_allclose(module(z).data, reference(z), rtol=1e-12)


# -- Dropout ---------------------------------------------------------------------------------


def test_dropout_is_inverted_and_off_in_eval():
    layer = nn.Dropout(0.25, rng=0)
    x = tg.Tensor(np.ones((200, 100)), requires_grad=True)
    out = layer(x)
    kept = out.data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(out.data[kept], 1 / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, out.data)  # the gradient is the mask
    layer.eval()
    assert layer(x) is x


def test_dropout_edge_probabilities_and_errors():
    x = tg.Tensor(np.ones((3, 3)))
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0.0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        nn.Dropout(1.5)


def test_dropout_masks_are_reproducible_with_a_seed():
    x = np.ones((10, 10))
    np.testing.assert_array_equal(nn.Dropout(0.5, rng=4)(x).data, nn.Dropout(0.5, rng=4)(x).data)


# -- state dicts -----------------------------------------------------------------------------


def test_state_dict_keys_are_pytorch_keys_and_share_the_arrays():
    model = _shallow()
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].data is model[0].weight.data
    assert not state["0.weight"].requires_grad


def test_load_state_dict_copies_in_place():
    source, target = _shallow(rng=1), _shallow(rng=2)
    weight_array = target[0].weight.data
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target[0].weight.data is weight_array  # optimisers keep their references
    x = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_array_equal(target(x).data, source(x).data)


def _snapshot(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("2.bias"), r"missing keys: '2\.bias'"),
        (lambda s: s.update(extra=np.zeros(1)), r"unexpected keys: 'extra'"),
        (lambda s: s.update({"0.weight": np.zeros((4, 3))}), r"'0\.weight': shape \(4, 3\)"),
        (
            lambda s: s.update({"0.bias": np.zeros(4, dtype=np.float32)}),
            r"'0\.bias': dtype float32.*float64",
        ),
        (lambda s: s.update({"0.bias": [0, 0, 0, 0]}), r"'0\.bias': expected an array"),
    ],
)
def test_load_state_dict_mismatch_names_the_problem_and_changes_nothing(change, message):
    model = _shallow(rng=1)
    before = _snapshot(model)
    state = {name: tensor.data + 1.0 for name, tensor in _shallow(rng=2).state_dict().items()}
    change(state)
    with pytest.raises(StateDictError, match=message):
        model.load_state_dict(state)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_load_state_dict_reports_every_problem_at_once():
    model = _shallow()
    state = dict(model.state_dict())
    state.pop("0.bias")
    state["0.weight"] = np.zeros((1, 1))
    state["bogus"] = np.zeros(1)
    with pytest.raises(StateDictError) as info:
        model.load_state_dict(state)
    text = str(info.value)
    assert "'0.bias'" in text and "'bogus'" in text and "(1, 1)" in text


def test_load_state_dict_non_strict_skips_missing_and_unexpected():
    model = _shallow(rng=1)
    state = {"0.weight": np.full((4, 2), 3.0), "other": np.zeros(2)}
    result = model.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(model[0].weight.data, 3.0)
    assert result.missing_keys == ["0.bias", "2.weight", "2.bias"]
    assert result.unexpected_keys == ["other"]


def test_trained_model_graduates_to_pytorch():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    from tinygrad_dl.data import load_flower

    X, Y = load_flower(layout="batch")
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 1, rng=1))
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(50):
        optimizer.zero_grad()
        loss_fn(model(X), Y).backward()
        optimizer.step()
    twin = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    twin = twin.double()
    twin.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in model.state_dict().items()}
    )
    with torch.no_grad():
        expected = twin(torch.from_numpy(X)).numpy()
    with tg.no_grad():
        np.testing.assert_allclose(model(X).data, expected, rtol=1e-12, atol=1e-12)


# -- buffers and PyTorch state dicts ---------------------------------------------------------


def test_buffers_are_in_the_state_dict_after_the_parameters_and_follow_to():
    layer = nn.BatchNorm1d(3)
    layer.register_buffer("scratch", np.zeros(2), persistent=False)
    assert list(layer.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert [name for name, _ in layer.named_buffers()][-1] == "scratch"
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.float()
    assert layer.running_mean.dtype == np.float32 and layer.scratch.dtype == np.float32
    assert layer.num_batches_tracked.dtype == np.int64
    with pytest.raises(TypeError, match="cannot assign ndarray to buffer 'running_mean'"):
        layer.running_mean = np.zeros(3)


def test_load_state_dict_reads_torch_tensors_and_asks_for_a_dtype_cast():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    model = _shallow(rng=1)
    before = _snapshot(model)
    with pytest.raises(StateDictError, match=r"dtype float32 in the state dict, float64.*dtype="):
        model.load_state_dict(theirs.state_dict())
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])  # nothing half-loaded
    model.load_state_dict(theirs.state_dict(), dtype=np.float64)
    assert model[0].weight.dtype == np.float64
    np.testing.assert_array_equal(model[0].weight.data, theirs[0].weight.detach().double().numpy())
    model.load_state_dict(theirs.double().state_dict())  # same dtype: no cast needed


def test_requires_grad_freezes_parameters_and_get_submodule_walks_dotted_paths():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Sequential(nn.Tanh(), nn.Linear(3, 1, rng=1)))
    model[0].requires_grad_(False)
    model(np.ones((4, 2))).sum().backward()
    assert model[0].weight.grad is None and model[1][1].weight.grad is not None
    assert model.get_submodule("1.1") is model[1][1]
    with pytest.raises(AttributeError, match="Sequential has no submodule '7'"):
        model.get_submodule("1.7")


def test_pytorch_in_place_initialisers_have_pytorchs_spread():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    weight = nn.Parameter(np.zeros((400, 300)))
    checks = [
        (
            lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=0),
            1 / math.sqrt(300) / math.sqrt(3),
        ),
        (
            lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=1),
            math.sqrt(2 / 400),
        ),
        (
            lambda w: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"), generator=2),
            5 / 3 * math.sqrt(2 / 700),
        ),
        (lambda w: nn.init.xavier_normal_(w, generator=3), math.sqrt(2 / 700)),
        (lambda w: nn.init.normal_(w, 0.0, 0.02, generator=4), 0.02),
        (lambda w: nn.init.uniform_(w, -1.0, 1.0, generator=5), 1 / math.sqrt(3)),
        (lambda w: nn.init.trunc_normal_(w, std=0.5, a=-1.0, b=1.0, generator=6), None),
    ]
    for fill, std in checks:
        array = weight.data
        assert fill(weight) is weight and weight.data is array  # in place, same array
        if std is not None:
            assert weight.data.std() == pytest.approx(std, rel=0.03)
    assert np.abs(weight.data).max() <= 1.0
    for name in ("relu", "tanh", "leaky_relu", "linear", "selu"):
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    )
    bias = nn.Parameter(np.ones(3))
    np.testing.assert_array_equal(nn.init.zeros_(bias).data, 0.0)
    np.testing.assert_array_equal(nn.init.constant_(bias, 0.5).data, 0.5)
    np.testing.assert_array_equal(nn.init.eye_(nn.Parameter(np.zeros((2, 3)))).data, np.eye(2, 3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(weight, mode="fan")


def test_a_state_dict_saved_by_torch_save_loads_and_predicts_the_same(tmp_path):
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    torch.save(theirs.state_dict(), tmp_path / "model.pt")
    model = _shallow(rng=3).float()  # float32 like the file: no cast needed
    model.load_state_dict(torch.load(tmp_path / "model.pt"))
    model.to("cpu").cpu()
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    with tg.no_grad():
        ours = model(x).data
    # float32 sums in a different order differ by a few ulps of the largest term, so a
    # near-zero output needs an absolute tolerance too
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown device 'mps'"):
        model.to("mps")


def test_embedding_from_pretrained_copies_and_freezes():
    table = np.arange(6.0).reshape(3, 2)
    layer = nn.Embedding.from_pretrained(table)
    np.testing.assert_array_equal(layer(np.array([2, 0])).data, [[4.0, 5.0], [0.0, 1.0]])
    assert not layer.weight.requires_grad and layer.weight.data is not table
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
