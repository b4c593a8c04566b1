"""tinygrad_dl/backend.py and the engine on other array libraries: every case runs on NumPy
and on the device given by ``--backend`` (default ``array_api_strict``, the array API
standard's strict reference on a device that refuses conversion to NumPy, as a GPU's memory
does; ``--backend cuda`` runs the same bodies on CuPy, see benchmarks/gpu_check.py). Values and
gradients must agree, and results must stay on the device: code that silently falls back to
NumPy fails here.

The op tables are the op test modules' own (same lambdas, two backends). NUMPY_ONLY lists what
needs a NumPy feature the standard lacks, and why; on array_api_strict those raise a clear error
naming the function (CuPy has them, so on ``cuda`` they are compared like the rest).
"""

from __future__ import annotations

import copy
import sys

import cupy_sim
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nn_conv import conv_cases, pool_cases
from test_ops_elementwise import BINARY, MORE_BINARY, MORE_UNARY, UNARY
from test_ops_indexing import INDEXING
from test_ops_linalg import LINALG, MATMULS, MATRIX_ORDERS, PRODUCTS, VECTOR_ORDERS
from test_ops_reduce import REDUCTIONS, SOFTMAXES

import tinygrad_dl as tg
from tinygrad_dl import backend, nn
from tinygrad_dl.nn import conv
from tinygrad_dl.nn import functional as F
from tinygrad_dl.ops import activations
from tinygrad_dl.ops import shape as shape_ops

# PyTorch's functions (activations, conv_transpose2d, unfold, pad modes, interpolate...) as
# test_torch_habits writes them, ``lambda lib, *xs`` with ``lib`` tinygrad_dl here. That module
# needs torch to import: without it these cases are skipped, visibly.
try:
    from test_torch_habits import F_CASES, TG_FUNCTION_CASES
except pytest.skip.Exception:
    F_CASES, TG_FUNCTION_CASES = {}, {}
from tinygrad_dl.testing import broadcastable_shape_pairs, float_arrays, matmul_shapes, weighted_sum

# What needs a function outside the array API standard (NumPy and CuPy have it;
# array_api_strict, and so the standard, do not), and why.
NUMPY_ONLY = {
    "exp2": "np.exp2 is not in the standard (2**x is, but the op keeps NumPy's ufunc)",
    "sinc": "np.sinc is not in the standard",
    "fmod": "np.fmod is not in the standard (remainder is, with Python's sign rule)",
    "fmax": "np.fmax (NaN-ignoring maximum) is not in the standard",
    "fmin": "np.fmin (NaN-ignoring minimum) is not in the standard",
    "logaddexp2": "np.logaddexp2 is not in the standard",
    "nan_to_num": "np.nan_to_num is not in the standard",
    "einsum": "np.einsum is not in the standard",
    "isclose": "np.isclose is not in the standard",
    "cummax": "np.fmax.accumulate is not in the standard (ufuncs have no accumulate there)",
    "cummin": "np.fmin.accumulate is not in the standard",
    "logcumsumexp": "np.logaddexp.accumulate is not in the standard",
    # test_torch_habits' cases that reach the functions above
    "numpy_names": "exp2 is not in the standard",
    "einsum_operand_list": "np.einsum is not in the standard",
    "cummax_values": "cummax",
    # test_ops_linalg's PRODUCTS built on einsum
    "tensordot int": "tensordot is an einsum here",
    "tensordot pair": "tensordot is an einsum here",
    "tensordot 0": "tensordot is an einsum here",
    "inner": "inner is an einsum here",
    "outer": "outer is an einsum here",
}


@pytest.fixture(scope="module", params=["--backend", "cuda-sim"])
def device(request) -> backend.Device:
    """The ``--backend`` device, then CuPy simulated on the CPU (tests/cupy_sim.py: the engine's
    CuPy path, NumPyLike's names, add.at, the device generator, CuPy's linalg, without a GPU).
    With ``--backend cuda`` real CuPy is there, and the simulation stays out of its way."""
    name = request.config.getoption("--backend")
    if request.param == "cuda-sim":
        if name == "cuda":
            pytest.skip("cuda-sim stands in for CuPy where there is none; real CuPy runs here")
        with cupy_sim.installed():
            yield backend.parse_device("cuda")
        return
    pytest.importorskip("cupy" if name == "cuda" else "array_api_strict")
    yield backend.parse_device(name)


def _on(device, *arrays, requires_grad=True):
    return [tg.Tensor(np.asarray(a), requires_grad=requires_grad, device=device) for a in arrays]


def assert_same_on_both(function, arrays, device, rtol=1e-10, atol=1e-12):
    """``function``'s value and the gradients of ``weighted_sum`` of it agree on NumPy and on
    ``device``, and everything computed on the device stays there."""
    host = [tg.Tensor(np.asarray(a), requires_grad=True) for a in arrays]
    there = _on(device, *arrays)
    expected, out = function(*host), function(*there)
    assert out.device == device, f"result on {out.device}, expected {device}"
    assert not isinstance(out.data, np.ndarray)
    np.testing.assert_allclose(
        out.numpy() if not out.requires_grad else out.detach().numpy(),
        expected.detach().numpy(),
        rtol=rtol,
        atol=atol,
    )
    if not expected.requires_grad:
        return
    weighted_sum(expected).backward()
    weighted_sum(out).backward()
    for index, (leaf_host, leaf_there) in enumerate(zip(host, there)):
        if leaf_host.grad is None:
            assert leaf_there.grad is None, f"input {index}: a gradient the CPU does not have"
            continue
        assert leaf_there.grad is not None, f"input {index}: no gradient on {device}"
        assert leaf_there.grad.device == device, f"input {index}: grad on {leaf_there.grad.device}"
        np.testing.assert_allclose(
            leaf_there.grad.numpy(),
            leaf_host.grad.numpy(),
            rtol=rtol,
            atol=atol,
            err_msg=f"gradient of input {index}",
        )


def _expect_numpy_only(device, call):
    if device == backend.STRICT:
        with pytest.raises(NotImplementedError, match="not in the array API standard"):
            call()
        return True
    return False


# -- the backend module ------------------------------------------------------------------------
def test_namespace_of_an_ndarray_is_numpy_itself():
    assert backend.namespace(np.ones(2)) is np


def test_namespace_of_a_standard_array_is_its_own_without_array_api_compat(monkeypatch):
    strict = pytest.importorskip("array_api_strict")
    monkeypatch.setitem(sys.modules, "array_api_compat", None)
    monkeypatch.setattr(backend, "_NAMESPACES", {})
    assert backend.namespace(strict.ones(2)) is strict


def test_a_library_outside_the_standard_needs_array_api_compat_and_says_so(monkeypatch):
    torch = pytest.importorskip("torch", reason="torch tensors are the library outside")
    monkeypatch.setitem(sys.modules, "array_api_compat", None)
    monkeypatch.setattr(backend, "_NAMESPACES", {})
    with pytest.raises(TypeError, match=r"need the array API compatibility layer: pip install"):
        backend.namespace(torch.ones(2))


def test_numpy_like_gives_a_numpy_shaped_library_the_standards_names():
    """CuPy's namespace without array-api-compat, checked here over NumPy itself."""
    xp = backend.NumPyLike(np)
    x = np.array([[0.5, -0.25, 1.0]])
    np.testing.assert_array_equal(xp.acos(x), np.arccos(x))
    np.testing.assert_array_equal(xp.pow(x, 2), x**2)
    np.testing.assert_array_equal(xp.permute_dims(x, (1, 0)), x.T)
    np.testing.assert_array_equal(xp.matrix_transpose(x[None]), x.T[None])
    np.testing.assert_array_equal(xp.concat([x, x], axis=0), np.concatenate([x, x]))
    assert xp.astype(x, np.float32).dtype == np.float32
    copied = xp.asarray(x, copy=True)
    assert not np.shares_memory(copied, x) and xp.asarray(x) is x
    made = [xp.zeros((2,), device=None), xp.ones((2,)), xp.empty((2,)), xp.full((2,), 3.0)]
    assert [a.shape for a in made] == [(2,)] * 4 and made[3].tolist() == [3.0, 3.0]
    assert xp.arange(3, device=None).tolist() == [0, 1, 2] and xp.exp2 is np.exp2


def test_device_names_as_pytorch_spells_them():
    cuda = backend.Device("cuda:1")
    assert (cuda.type, cuda.index, cuda == "cuda:1") == ("cuda", 1, True)
    assert (backend.CPU.type, backend.CPU.index) == ("cpu", None)
    assert backend.parse_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device 'mps'"):
        backend.parse_device("mps")


def test_cuda_without_cupy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(RuntimeError, match=r"needs CuPy .*tinygrad-dl\[gpu\]"):
        tg.Tensor(np.ones(2)).to("cuda")


# -- devices on Tensors and modules ------------------------------------------------------------
def test_to_moves_and_the_gradient_flows_back_to_the_source_device(device):
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    moved = x.to(device)
    assert moved.device == device and x.device == "cpu"
    (moved * moved).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(6.0).reshape(2, 3))
    assert moved.to(device) is moved and x.to("cpu") is x


def test_numpy_and_item_copy_to_the_host(device):
    (t,) = _on(device, np.array([[1.5, 2.5]]), requires_grad=False)
    host = t.numpy()
    assert isinstance(host, np.ndarray) and host.tolist() == [[1.5, 2.5]]
    assert t.sum().item() == 4.0 and t.tolist() == [[1.5, 2.5]]
    assert t.cpu().device == "cpu" and "device=" in repr(t)


def test_mixing_devices_is_an_error_naming_both(device):
    here = tg.Tensor(np.ones((2, 2)), requires_grad=True)
    (there,) = _on(device, np.ones((2, 2)))
    for name, call in {
        "add": lambda: here + there,
        "mul": lambda: there * here,
        "matmul": lambda: here @ there,
        "greater": lambda: here > there,
    }.items():
        both = rf"(cpu and {device}|{device} and cpu)"
        with pytest.raises(
            RuntimeError,
            match=rf"{name}: expected all tensors on the same device, "
            rf"found {both}; move one",
        ):
            call()


def test_factories_take_device_and_like_follows_its_model(device):
    made = [
        tg.zeros(2, 3, device=device),
        tg.ones((2, 3), device=device),
        tg.full((2,), 7.0, device=device),
        tg.randn(2, 3, rng=0, device=device),
        tg.rand(2, rng=0, device=device),
        tg.arange(3, device=device),
        tg.eye(2, device=device),
        tg.tensor([1.0, 2.0], device=device),
    ]
    assert all(t.device == device for t in made)
    # the same seed gives the same numbers on every device
    np.testing.assert_array_equal(made[3].numpy(), tg.randn(2, 3, rng=0).numpy())
    assert tg.zeros_like(made[0]).device == device and tg.ones_like(made[0]).dtype == np.float64


def test_module_to_device_trains_as_on_the_cpu(device):
    rng = np.random.default_rng(0)
    X, labels = rng.standard_normal((6, 4)), np.array([0, 2, 1, 1, 0, 2])
    host = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    there = copy.deepcopy(host).to(device)
    assert all(p.device == device for p in there.parameters())
    losses = []
    for model, where in ((host, "cpu"), (there, device)):
        optimizer = tg.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(3):
            loss = F.cross_entropy(
                model(tg.Tensor(X, device=where)), tg.Tensor(labels, device=where)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(losses[1], rel=1e-10)
    for p, q in zip(host.parameters(), there.parameters()):
        assert q.device == device
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-10)
    assert all(p.device == "cpu" for p in there.cpu().parameters())


@pytest.mark.parametrize("optimizer", ["SGD", "SGD momentum nesterov", "RMSprop", "Adam", "AdamW"])
def test_optimizer_steps_equal_the_cpus(device, optimizer):
    name, *options = optimizer.split()
    kwargs = {"momentum": 0.9, "nesterov": True} if options else {}
    start = np.random.default_rng(1).standard_normal((3, 4))
    results = []
    for where in ("cpu", device):
        w = tg.Tensor(start.copy(), requires_grad=True, device=where)
        step = getattr(tg.optim, name)([w], lr=0.1, weight_decay=0.01, **kwargs)
        for _ in range(3):
            step.zero_grad()
            (w * w * w).sum().backward()
            step.step()
        assert w.device == where
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [
        lambda z, y: F.binary_cross_entropy_with_logits(z[:, 0], (y > 0).astype(np.float64)),
        lambda z, y: F.cross_entropy(z, y),
        lambda z, y: F.cross_entropy(z, y, reduction="none"),
        lambda z, y: F.mse_loss(z, z.detach() * 0.5),
    ],
    ids=["bce_with_logits", "cross_entropy", "cross_entropy_none", "mse"],
)
def test_losses_equal_the_cpus(device, loss):
    z = np.random.default_rng(2).standard_normal((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    host = tg.Tensor(z, requires_grad=True)
    (there,) = _on(device, z)
    expected = loss(host, tg.Tensor(labels))
    out = loss(there, tg.Tensor(labels, device=device))
    assert out.device == device
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    weighted_sum(expected).backward()
    weighted_sum(out).backward()
    np.testing.assert_allclose(there.grad.numpy(), host.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_numpy_style_course_code_runs_on_the_device(device):
    """``np.dot(W, A) + b`` and ``np.sum(..., keepdims=True)`` dispatch to the Tensor, which
    calls its data's namespace."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 1))]

    def layer(W, A, b):
        Z = np.dot(W, A) + b
        return np.sum(np.tanh(Z), axis=1, keepdims=True) / Z.shape[1]

    assert_same_on_both(layer, arrays, device)


# -- the op tables, on both backends -----------------------------------------------------------
_X = np.random.default_rng(4).uniform(0.3, 0.9, (3, 4))
_Y = np.random.default_rng(5).uniform(0.3, 0.9, (3, 4)) + 1.0  # apart from _X: no ties


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_agree(device, name):
    assert_same_on_both(UNARY[name][0], [_X], device)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_agree(device, name):
    assert_same_on_both(BINARY[name][0], [_X, _Y], device)


@pytest.mark.parametrize("name", sorted(MORE_UNARY))
def test_more_unary_ops_agree(device, name):
    options = MORE_UNARY[name][0]
    x = np.clip(_X + options.get("min_value", 0.0), -0.9, None) if name == "arccosh" else _X
    x = x + 1.0 if name == "arccosh" else x
    function = getattr(tg.ops.elementwise, name)
    if name in NUMPY_ONLY and _expect_numpy_only(device, lambda: function(_on(device, x)[0])):
        return
    assert_same_on_both(function, [x], device)


@pytest.mark.parametrize("name", sorted(MORE_BINARY))
def test_more_binary_ops_agree(device, name):
    function = getattr(tg.ops.elementwise, name)
    if name in NUMPY_ONLY and _expect_numpy_only(device, lambda: function(*_on(device, _X, _Y))):
        return
    assert_same_on_both(function, [_X, _Y], device)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_reductions_agree(device, name, axis):
    function = REDUCTIONS[name][0]
    assert_same_on_both(lambda x: function(x, axis=axis, keepdims=axis == 1), [_X], device)


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
def test_softmaxes_agree(device, name):
    assert_same_on_both(lambda x: SOFTMAXES[name][0](x, 1), [_X], device)


@pytest.mark.parametrize("name", sorted(MATMULS))
@settings(max_examples=10)
@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_agrees_for_1d_2d_and_batched(device, name, shapes, data):
    a = data.draw(float_arrays(shapes[0]), label="a")
    b = data.draw(float_arrays(shapes[1]), label="b")
    assert_same_on_both(MATMULS[name], [a, b], device)


@settings(max_examples=15)
@given(pair=broadcastable_shape_pairs(), data=st.data())
def test_broadcasting_gradients_agree(device, pair, data):
    a = data.draw(float_arrays(pair[0]), label="a")
    b = data.draw(float_arrays(pair[1], away_from=0.0), label="b")
    assert_same_on_both(lambda s, t: s * t - s / t, [a, b], device)


SHAPE_OPS = {
    "reshape": lambda x: x.reshape(4, 3),
    "flatten": lambda x: x.flatten(),
    "transpose": lambda x: x.T,
    "transpose axes": lambda x: tg.transpose(x.reshape(2, 2, 3), (2, 0, 1)),
    "swapaxes": lambda x: tg.swapaxes(x, 0, 1),
    "expand_dims": lambda x: tg.expand_dims(x, 1),
    "squeeze": lambda x: tg.squeeze(x.reshape(3, 1, 4), 1),
    "broadcast_to": lambda x: tg.broadcast_to(x[:1], (5, 4)),
    "slice": lambda x: x[1:, ::2],
    "astype": lambda x: x.astype(np.float32) * 2.0,
    "concatenate": lambda x: tg.concatenate([x, x * 2.0], axis=1),
    "stack": lambda x: tg.stack([x, x * 2.0], axis=1),
    "where with a number": lambda x: tg.where(x > 0.6, x, 0.0),
    "maximum with a number": lambda x: tg.maximum(0.6, x),
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_ops_agree(device, name):
    assert_same_on_both(SHAPE_OPS[name], [_X], device, rtol=1e-6)


# -- sorting, gathering, scattering: the standard has no scatter-add, so the gradients of
# integer-array indexing are built from a one-hot matmul (CuPy uses its add.at) ------------------
_DISTINCT = np.random.default_rng(11).permutation(12).reshape(3, 4) * 0.1 + 0.05


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_ops_agree(device, name):
    assert_same_on_both(INDEXING[name], [_DISTINCT], device)


def test_sort_and_topk_indices_stay_on_the_device_and_equal_the_cpus(device):
    (x,) = _on(device, _DISTINCT, requires_grad=False)
    for name, call in {
        "argsort": lambda t: tg.ops.indexing.argsort(t, axis=0),
        "sort indices": lambda t: tg.ops.indexing.sort(t, descending=True).indices,
        "topk indices": lambda t: tg.ops.indexing.topk(t, 3).indices,
    }.items():
        there, here = call(x), call(tg.Tensor(_DISTINCT))
        assert there.device == device and there.dtype == np.int64, name
        np.testing.assert_array_equal(there.numpy(), here.numpy(), err_msg=name)


def test_partition_on_the_device_is_a_valid_partition_with_the_cpus_gradient(device):
    (x,) = _on(device, _DISTINCT)
    out = tg.ops.indexing.partition(x, 1, axis=1)
    values = out.detach().numpy()
    assert out.device == device
    assert np.all(values[:, :1] <= values[:, 1:2]) and np.all(values[:, 1:2] <= values[:, 2:])
    np.testing.assert_array_equal(np.sort(values, axis=1), np.sort(_DISTINCT, axis=1))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(_DISTINCT))


def test_embedding_with_padding_agrees(device):
    index = np.array([[0, 2, 2], [1, 0, 3]])
    weight = np.random.default_rng(12).standard_normal((4, 3))
    for padding_idx in (None, 2):
        assert_same_on_both(
            lambda w, i=index, p=padding_idx: F.embedding(tg.Tensor(i, device=w.device), w, p),
            [weight],
            device,
        )


def test_scatter_add_standard_sums_repeats_in_blocks(monkeypatch):
    """The standard's scatter-add, run here through NumPyLike over NumPy (CuPy's wrapper), in
    blocks of one element so the blocking is exercised."""
    xp = backend.NumPyLike(np)
    rng = np.random.default_rng(13)
    positions, values = rng.integers(0, 5, 40), rng.standard_normal(40)
    expected = np.zeros(5)
    np.add.at(expected, positions, values)
    for block in (1, 7, 1 << 22):
        monkeypatch.setattr(shape_ops, "_ONE_HOT_ELEMENTS", block * 5)
        out = shape_ops.scatter_add_standard(xp, positions, values, 5)
        np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)


def test_compile_runs_the_step_eagerly_on_other_libraries(device):
    """tg.compile's replay records NumPy calls; on another library the step runs eagerly and
    gives the eager step's gradients every call."""
    start = np.random.default_rng(6).standard_normal((2, 3))
    (x,) = _on(device, np.ones((3, 4)), requires_grad=False)

    def make_step(w):
        def step(batch):
            loss = (w @ batch).tanh().sum()
            loss.backward()
            return loss

        return step

    w_eager, w_compiled = _on(device, start, start)
    eager, compiled = make_step(w_eager), tg.compile(make_step(w_compiled))
    for _ in range(3):
        assert compiled(x).item() == pytest.approx(eager(x).item(), rel=1e-12)
    assert w_compiled.grad.device == device
    np.testing.assert_allclose(w_compiled.grad.numpy(), w_eager.grad.numpy(), rtol=1e-12)


def test_einsum_needs_numpy_or_cupy(device):
    if device == backend.STRICT:
        (x,) = _on(device, _X)
        with pytest.raises(NotImplementedError, match="np.einsum is not in the array API"):
            tg.einsum("ij->j", x)
        return
    assert_same_on_both(lambda x: tg.einsum("ij,ij->j", x, x), [_X], device)


# -- save and load -----------------------------------------------------------------------------
def test_save_moves_a_devices_model_to_the_host_and_load_state_dict_back_onto_its_device(
    device, tmp_path
):
    """tg.save writes NumPy arrays from a device's model and optimiser; load_state_dict puts
    them on the receiving model's device, and training continues exactly as it would have."""

    def make():
        return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).to(device)

    rng = np.random.default_rng(7)
    (X,) = _on(device, rng.standard_normal((5, 4)), requires_grad=False)
    model = make()
    optimizer = tg.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (model(X) ** 2).sum().backward()
        optimizer.step()
    tg.save(model.state_dict(), tmp_path / "model.npz")
    tg.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    saved = tg.load(tmp_path / "model.npz")
    assert all(t.device == "cpu" for t in saved.values())

    restored = make()
    restored.load_state_dict(saved)
    restored_optimizer = tg.optim.Adam(restored.parameters(), lr=0.1)
    restored_optimizer.load_state_dict(tg.load(tmp_path / "optimizer.npz"))
    for (name, p), q in zip(model.state_dict().items(), restored.state_dict().values()):
        assert q.device == device, name
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy(), err_msg=name)
    for state in restored_optimizer.state.values():
        assert all(backend.device_of(v) == device for k, v in state.items() if k != "step")

    twin = copy.deepcopy(model)  # one more step on the original and on the restored copy
    for net, step in ((twin, tg.optim.Adam(twin.parameters(), lr=0.1)), (restored, None)):
        if step is not None:
            step.load_state_dict(optimizer.state_dict())
        step = step or restored_optimizer
        step.zero_grad()
        (net(X) ** 2).sum().backward()
        step.step()
    for p, q in zip(twin.parameters(), restored.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12)


# -- convolution, pooling, padding, resizing, normalisation, dropout, activations --------------
@settings(max_examples=5)
@given(case=conv_cases())
def test_conv2d_agrees(device, case):
    x, w, b, options = case
    assert_same_on_both(lambda x, w, b: conv.conv2d(x, w, b, **options), [x, w, b], device)


@settings(max_examples=5)
@given(case=conv_cases(spatial=1))
def test_conv1d_agrees(device, case):
    x, w, b, options = case
    assert_same_on_both(lambda x, w, b: conv.conv1d(x, w, b, **options), [x, w, b], device)


@settings(max_examples=5)
@given(case=pool_cases())
def test_max_pool2d_agrees_with_its_indices(device, case):
    x, options = case
    assert_same_on_both(lambda x: conv.max_pool2d(x, **options), [x], device)
    here = conv.max_pool2d(tg.Tensor(x), **options, return_indices=True)[1]
    there = conv.max_pool2d(_on(device, x)[0], **options, return_indices=True)[1]
    assert there.device == device
    np.testing.assert_array_equal(there.numpy(), here.numpy())


@settings(max_examples=5)
@given(case=pool_cases(dilation=False), include=st.booleans(), divisor=st.sampled_from([None, 3]))
def test_avg_pool2d_agrees(device, case, include, divisor):
    x, options = case
    options.update(count_include_pad=include, divisor_override=divisor)
    assert_same_on_both(lambda x: conv.avg_pool2d(x, **options), [x], device)


@pytest.mark.parametrize("name", sorted(F_CASES))
def test_torch_style_functions_agree(device, name):
    function, *arrays = F_CASES[name]
    assert_same_on_both(lambda *ts: function(tg, *ts), arrays, device)


def _one_tensor(result):
    """A result as one Tensor: the floating parts of a tuple (``var_mean``'s pair, ``cummax``'s
    values) flattened and joined; a Tensor as it is."""
    if not isinstance(result, tuple):
        return result
    parts = [part.reshape(-1) for part in result if part.dtype.kind == "f"]
    return tg.concatenate(parts)


@pytest.mark.parametrize("name", sorted(TG_FUNCTION_CASES))
def test_torch_named_functions_agree(device, name):
    function, *arrays = TG_FUNCTION_CASES[name]
    call = lambda *ts: _one_tensor(function(tg, *ts))  # noqa: E731
    if name in NUMPY_ONLY and _expect_numpy_only(device, lambda: call(*_on(device, *arrays))):
        return
    assert_same_on_both(call, arrays, device, rtol=1e-9)


_IMAGES = np.random.default_rng(14).standard_normal((2, 4, 7, 6))
LAYERS = {
    "Conv2d": (lambda: nn.Conv2d(4, 3, 3, padding=1, rng=0), _IMAGES),
    "Conv2d groups, stride, dilation": (
        lambda: nn.Conv2d(4, 6, (2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
        _IMAGES,
    ),
    "Conv2d reflect": (lambda: nn.Conv2d(4, 2, 3, padding=1, padding_mode="reflect"), _IMAGES),
    "Conv2d circular": (lambda: nn.Conv2d(4, 2, 3, padding=1, padding_mode="circular"), _IMAGES),
    "Conv1d": (lambda: nn.Conv1d(4, 3, 3, stride=2, padding=1), _IMAGES[:, :, 0]),
    "MaxPool2d ceil": (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), _IMAGES),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), _IMAGES),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), _IMAGES),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(4), _IMAGES),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(6), _IMAGES[:, 0, :, :].reshape(-1, 6)),
    "BatchNorm2d eval": (lambda: nn.BatchNorm2d(4).eval(), _IMAGES),
    "LayerNorm": (lambda: nn.LayerNorm(6), _IMAGES),
    "GELU": (lambda: nn.GELU(), _IMAGES),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_agree_and_keep_their_state_on_the_device(device, name):
    make, x = LAYERS[name]
    host = make()
    there = copy.deepcopy(host).to(device)
    assert_same_on_both(lambda t: (host if t.device == "cpu" else there)(t), [x], device)
    for (key, p), q in zip(host.state_dict().items(), there.state_dict().values()):
        assert q.device == device, key
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12, err_msg=key)
        if isinstance(p, nn.Parameter) and p.grad is not None:
            np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-10, err_msg=key)


@pytest.mark.parametrize("layer", ["Dropout", "Dropout2d"])
def test_dropout_masks_stay_on_the_device_and_scale_the_survivors(device, layer):
    p = 0.4
    x = np.random.default_rng(15).uniform(1.0, 2.0, (4, 3, 5, 5))
    (there,) = _on(device, x)
    out = getattr(nn, layer)(p, rng=3)(there)
    assert out.device == device
    values = out.detach().numpy()
    kept = values != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(values[kept], x[kept] / (1 - p), rtol=1e-12)
    if layer == "Dropout2d":  # whole channels
        assert np.all(kept.all(axis=(2, 3)) | ~kept.any(axis=(2, 3)))
    out.sum().backward()
    np.testing.assert_allclose(there.grad.numpy(), kept / (1 - p), rtol=1e-12)
    if device == backend.STRICT:  # no generator there: the CPU's draw, moved
        expected = getattr(nn, layer)(p, rng=3)(tg.Tensor(x)).numpy()
        np.testing.assert_array_equal(values, expected)


def test_erf_standard_matches_scipy_in_float64_through_cupys_wrapper():
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-8, 8, 4001), [0.0, 1e-300, -1e-8, 5.9999, 6.0, np.inf]])
    out = activations.erf_standard(backend.NumPyLike(np), x)
    np.testing.assert_allclose(out, special.erf(x), rtol=2e-14, atol=0)
    float32 = activations.erf_standard(np, x.astype(np.float32))
    assert float32.dtype == np.float32
    np.testing.assert_allclose(float32, special.erf(x), rtol=2e-6, atol=1e-7)


def test_windows_and_fold_of_the_standard_equal_numpys_through_cupys_wrapper():
    """conv's im2col from strided slices (the standard's path) equals sliding_window_view's,
    and fold (slice-adds into zeros) stays its adjoint, with CuPy's names over NumPy."""
    xp = backend.NumPyLike(np)
    x = np.random.default_rng(16).standard_normal((2, 3, 7, 8))
    geometry = conv.Geometry(kh=3, kw=2, sh=2, sw=1, dh=1, dw=3)
    np.testing.assert_array_equal(
        conv._windows_standard(xp, x, geometry), conv.windows(x, geometry)
    )


# -- np.linalg: the standard's linalg extension ------------------------------------------------
@pytest.mark.parametrize("name", sorted(LINALG))
@settings(max_examples=5)
@given(data=st.data())
def test_linalg_agrees(device, name, data):
    function, _, matrices = LINALG[name]
    function = ON_ONE_DEVICE.get(name, function)
    x = data.draw(matrices, label="x")
    assert_same_on_both(lambda t: function(np, t), [x], device, rtol=1e-8, atol=1e-10)


# LINALG's solve adds a host constant (np.ones) to the tensor: here b is built from x alone.
ON_ONE_DEVICE = {"solve": lambda m, x: m.linalg.solve(x, x * 0.5 + 1.0)}


@pytest.mark.parametrize("order", VECTOR_ORDERS + [0])
def test_vector_norms_agree(device, order):
    assert_same_on_both(lambda t: np.linalg.norm(t, order, axis=1), [_X - 0.6], device)


@pytest.mark.parametrize("order", MATRIX_ORDERS + [None])
def test_matrix_norms_agree(device, order):
    assert_same_on_both(lambda t: np.linalg.norm(t, order), [_X - 0.6], device, rtol=1e-9)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_diagonals_and_triangles_agree(device, name):
    function, _, shapes = PRODUCTS[name]
    rng = np.random.default_rng(17)
    arrays = [rng.standard_normal(shape) for shape in shapes]
    call = lambda *ts: function(np, *ts)  # noqa: E731
    if name in NUMPY_ONLY and _expect_numpy_only(device, lambda: call(*_on(device, *arrays))):
        return
    assert_same_on_both(call, arrays, device)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_the_same_triangle_on_the_device(device, uplo):
    """The standard's eigh has no UPLO: 'U' is the lower triangle of A^T, and the gradient
    goes to the triangle that was read, as on the CPU."""
    a = np.random.default_rng(18).standard_normal((4, 4))
    assert_same_on_both(lambda t: np.linalg.eigh(t, UPLO=uplo)[0], [a], device, rtol=1e-9)


def test_det_gradient_at_a_singular_matrix_agrees(device):
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
    assert_same_on_both(lambda t: np.linalg.det(t), [a], device, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 2), (2, 4)])
def test_lstsq_agrees_with_numpys_rank_and_residuals(device, shape):
    a, b = np.random.default_rng(19).standard_normal((2,) + shape)
    b = b[:, 0]
    assert_same_on_both(lambda s, t: np.linalg.lstsq(s, t)[0], [a, b], device, rtol=1e-9)
    here = np.linalg.lstsq(tg.Tensor(a), tg.Tensor(b))
    there = np.linalg.lstsq(*_on(device, a, b, requires_grad=False))
    assert there.rank == here.rank and there.residuals.device == device
    np.testing.assert_allclose(there.residuals.numpy(), here.residuals.numpy(), rtol=1e-9)


def test_linalg_through_cupys_wrapper_is_numpys():
    """CuPy's linalg is called with NumPy's signatures; NumPyLike over NumPy stands in for it."""
    xp = backend.NumPyLike(np)
    a = np.random.default_rng(20).standard_normal((3, 3)) + 3 * np.eye(3)
    assert xp.linalg is np.linalg
    np.testing.assert_allclose(backend._linalg_style("inv")(a), np.linalg.inv(a))


def test_numpy_like_sorts_with_the_standards_keywords_keeping_ties_in_order():
    """CuPy's argsort/sort have NumPy's signature; NumPyLike gives them the standard's
    ``descending=`` and ``stable=`` (ties stay in their original order, as the standard's)."""
    xp = backend.NumPyLike(np)
    x = np.array([[2, 1, 2, 0, 1], [5, 5, 5, 5, 5]], dtype=np.uint8)
    np.testing.assert_array_equal(
        xp.argsort(x, axis=1, descending=True), [[0, 2, 1, 4, 3], [0, 1, 2, 3, 4]]
    )
    np.testing.assert_array_equal(xp.argsort(x, axis=0), [[0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
    np.testing.assert_array_equal(xp.sort(x, axis=1, descending=True)[0], [2, 2, 1, 1, 0])
    np.testing.assert_array_equal(xp.sort(x[0]), [0, 1, 1, 2, 2])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumsum_and_cumprod_with_zeros_agree(device, axis):
    x = np.array([[1.5, 0.0, 2.0, -1.0], [3.0, 0.5, 0.0, 0.0], [0.0, 2.0, 1.0, 0.5]])
    assert_same_on_both(lambda t: t.cumsum(axis) + t.cumprod(axis), [x], device)
