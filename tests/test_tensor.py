"""tinygrad_dl/tensor.py and creation.py: construction and dtype rules, attributes, conversions,
repr, hashing, factories, and the in-place rules that protect gradients."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

import tinygrad_dl as tg
from tinygrad_dl.testing import float_arrays, float_dtypes, shapes


# -- construction and dtypes -----------------------------------------------------------------
@pytest.mark.parametrize("data", [1, 2.5, [1, 2], [[1.0, 2.0]], True and 3])
def test_python_numbers_and_lists_become_float64(data):
    t = tg.Tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_ndarrays_keep_their_dtype_and_are_not_copied(dtype):
    array = np.zeros((2, 3), dtype=dtype)
    t = tg.Tensor(array)
    assert t.dtype == dtype and t.data is array


def test_dtype_argument_casts():
    assert tg.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert tg.Tensor(np.ones(2), dtype=np.int64).dtype == np.int64
    assert tg.Tensor([1, 2], dtype="int32").dtype == np.int32


@pytest.mark.parametrize(
    "data", [np.array([1, 2]), np.array([True, False]), [1, 2]], ids=["int", "bool", "list"]
)
def test_integer_and_boolean_tensors_cannot_require_grad(data):
    dtype = None if isinstance(data, np.ndarray) else np.int64
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        tg.Tensor(data, requires_grad=True, dtype=dtype)
    with pytest.raises(TypeError, match="floating-point"):
        tg.Tensor(data, dtype=dtype).requires_grad_()


@pytest.mark.parametrize(
    "data", ["abc", ["a", "b"], [object()], {"a": 1}, [[1.0, 2.0], [3.0]], None]
)
def test_non_numeric_data_is_a_type_error(data):
    with pytest.raises(TypeError, match="Tensor"):
        tg.Tensor(data)


def test_tensor_of_a_tensor_shares_its_data():
    a = tg.Tensor(np.ones(3), requires_grad=True)
    b = tg.Tensor(a)
    assert b.data is a.data and not b.requires_grad and b.is_leaf


@given(float_arrays(shapes(), dtype=float_dtypes()))
def test_attributes_mirror_the_array(x):
    t = tg.Tensor(x, requires_grad=True)
    assert t.shape == x.shape and t.ndim == x.ndim and t.size == x.size and t.dtype == x.dtype
    assert t.is_leaf and t.grad_fn is None and t.grad is None and t.requires_grad
    np.testing.assert_array_equal(t.T.data, x.T)
    assert t.tolist() == x.tolist()
    np.testing.assert_array_equal(t.detach().numpy(), x)


# -- conversions ---------------------------------------------------------------------------
def test_item_of_a_one_element_tensor_and_its_error_otherwise():
    assert tg.Tensor([[2.5]]).item() == 2.5 and isinstance(tg.Tensor(3.0).item(), float)
    assert float(tg.Tensor(1.5)) == 1.5 and int(tg.Tensor(np.array(4))) == 4
    with pytest.raises(ValueError, match=re.escape("shape (2,)")):
        tg.Tensor([1.0, 2.0]).item()


def test_bool_of_one_element_works_and_of_many_elements_raises_like_numpy():
    assert bool(tg.Tensor(1.0)) and not bool(tg.Tensor([0.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tg.Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        if tg.Tensor([1.0, 2.0]) > 0:
            pass


def test_tensors_hash_by_identity_and_work_as_dict_keys():
    a, b = tg.Tensor([1.0]), tg.Tensor([1.0])
    assert hash(a) != hash(b) and hash(a) == hash(a)
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b" and len({a, b, a}) == 2


def test_len_and_iteration_follow_the_first_axis():
    t = tg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    assert len(t) == 3
    rows = list(t)
    assert [r.shape for r in rows] == [(2,)] * 3 and all(r.requires_grad for r in rows)
    with pytest.raises(TypeError, match="0-d"):
        len(tg.Tensor(1.0))


def test_numpy_and_asarray_refuse_to_drop_a_graph_but_work_on_detached_values():
    t = tg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(t)
    assert np.asarray(t.detach()).shape == (2,)
    with tg.no_grad():
        assert t.numpy() is t.data
    assert np.asarray(tg.Tensor([1.0, 2.0]), dtype=np.float32).dtype == np.float32


def test_np_array_of_a_list_of_tensors_is_refused_pointing_to_np_stack():
    # NumPy's np.array([x, y]) asks each element for __array__; no protocol lets a Tensor come
    # back, so it must refuse (not drop the graph) and name the differentiable way.
    x = tg.Tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"np\.stack\(\[\.\.\.\]\) or tg\.stack"):
        np.array([x, x * 3])
    stacked = np.stack([x, x * 3])
    stacked.sum().backward()
    assert x.grad.item() == 4.0


def test_integer_and_boolean_casts_of_a_tensor_in_the_graph_are_allowed():
    # discrete results carry no gradient to lose (PyTorch's t.long() works the same way)
    t = tg.Tensor(np.array([1.5, -2.0, 0.0]), requires_grad=True)
    np.testing.assert_array_equal(np.int64(t), [1, -2, 0])
    np.testing.assert_array_equal(np.asarray(t, dtype=bool), [True, True, False])
    with pytest.raises(RuntimeError, match="detach"):
        np.asarray(t, dtype=np.float32)


def test_index_of_an_integer_scalar_tensor():
    assert [10, 20, 30][tg.Tensor(np.array(1))] == 20
    with pytest.raises(TypeError, match="integer"):
        [10, 20][tg.Tensor(1.0)]


# -- repr ----------------------------------------------------------------------------------
def test_repr_shows_values_grad_fn_requires_grad_and_non_default_dtype():
    z = tg.Tensor([[0.0]], requires_grad=True)
    assert repr(tg.sigmoid(z)) == "Tensor([[0.5]], grad_fn=<sigmoid>)"
    assert repr(z) == "Tensor([[0.]], requires_grad=True)"
    assert repr(tg.Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert "dtype=float32" in repr(tg.Tensor(np.ones(2, dtype=np.float32)))
    assert repr(tg.Tensor(np.array([1, 2]))) == "Tensor([1, 2])"


def test_grad_fn_has_a_readable_name():
    x = tg.Tensor([1.0], requires_grad=True)
    assert (x * 2).grad_fn.name == "mul" and (x @ x).grad_fn.name == "matmul"
    assert tg.exp(x).grad_fn.name == "exp" and x.sum().grad_fn.name == "sum"


# -- factories -----------------------------------------------------------------------------
FACTORIES = {
    "zeros": (lambda **k: tg.zeros(2, 3, **k), np.zeros((2, 3))),
    "zeros_tuple": (lambda **k: tg.zeros((2, 3), **k), np.zeros((2, 3))),
    "ones": (lambda **k: tg.ones(2, **k), np.ones(2)),
    "full": (lambda **k: tg.full((2, 2), 7.0, **k), np.full((2, 2), 7.0)),
    "zeros_like": (lambda **k: tg.zeros_like(tg.Tensor(np.ones((1, 2))), **k), np.zeros((1, 2))),
    "ones_like": (lambda **k: tg.ones_like(np.zeros(3), **k), np.ones(3)),
    "arange": (lambda **k: tg.arange(1, 7, 2, **k), np.array([1.0, 3.0, 5.0])),
    "eye": (lambda **k: tg.eye(3, **k), np.eye(3)),
    "tensor": (lambda **k: tg.tensor([[1.0, 2]], **k), np.array([[1.0, 2.0]])),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dtype", [None, np.float32])
def test_factories_give_values_dtype_and_requires_grad(name, dtype):
    factory, expected = FACTORIES[name]
    kwargs = {} if dtype is None else {"dtype": dtype}
    t = factory(requires_grad=True, **kwargs)
    assert t.dtype == (dtype or np.float64) and t.requires_grad and t.is_leaf
    np.testing.assert_array_equal(t.data, expected)
    assert not factory().requires_grad


def test_tensor_factory_infers_integer_and_boolean_dtypes_as_torch():
    assert tg.tensor([2, 0, 1]).dtype == np.int64 and tg.tensor([True]).dtype == np.bool_
    assert tg.tensor([1.0, 2]).dtype == np.float64 and tg.Tensor([2, 0, 1]).dtype == np.float64
    assert tg.tensor(3).dtype == np.int64 and tg.tensor([1], dtype=np.float32).dtype == np.float32


def test_tensor_factory_copies_and_tensor_constructor_does_not():
    array = np.ones(2)
    assert tg.tensor(array).data is not array and tg.Tensor(array).data is array


@pytest.mark.parametrize("factory", [tg.randn, tg.rand])
def test_random_factories_are_reproducible_with_rng(factory):
    a = factory(3, 2, rng=0)
    b = factory((3, 2), rng=np.random.default_rng(0))
    c = factory(3, 2, rng=np.random.RandomState(1), dtype=np.float32, requires_grad=True)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.shape == (3, 2) and a.dtype == np.float64
    assert c.dtype == np.float32 and c.requires_grad
    np.testing.assert_array_equal(
        factory(3, 2, rng=np.random.RandomState(1)).data.astype(np.float32), c.data
    )
    if factory is tg.rand:
        assert np.all((a.data >= 0) & (a.data < 1))


def test_randn_with_randomstate_matches_the_course_generator():
    np.testing.assert_array_equal(
        tg.randn(2, 3, rng=np.random.RandomState(3)).data, np.random.RandomState(3).randn(2, 3)
    )


@pytest.mark.parametrize(
    "factory, reference", [(tg.randn, np.random.randn), (tg.rand, np.random.rand)]
)
def test_random_factories_without_rng_follow_the_course_np_random_seed_idiom(factory, reference):
    np.random.seed(1)
    ours = factory(2, 3).data
    np.random.seed(1)
    np.testing.assert_array_equal(ours, reference(2, 3))


def test_random_factories_refuse_a_bad_rng():
    with pytest.raises(TypeError, match="rng"):
        tg.randn(2, rng="seed")


# -- in-place rules ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        lambda x: x.__iadd__(1),
        lambda x: x.__isub__(1),
        lambda x: x.__imul__(2),
        lambda x: x.__itruediv__(2),
        lambda x: x.__setitem__(0, 5.0),
        lambda x: x.fill_(0),
        lambda x: x.zero_(),
    ],
    ids=["+=", "-=", "*=", "/=", "setitem", "fill_", "zero_"],
)
def test_in_place_change_of_a_tensor_requiring_grad_is_refused_outside_no_grad(change):
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        change(x)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    with tg.no_grad():
        change(x)
    assert not np.array_equal(x.data, [1.0, 2.0])


def test_in_place_operators_work_on_plain_tensors_and_keep_identity():
    x = tg.Tensor(np.array([1.0, 2.0]))
    y = x
    x += 1
    x *= 2
    x -= 1
    x /= 3
    x[0] = 0.0
    assert x is y
    np.testing.assert_allclose(x.data, [0.0, 5.0 / 3])


def test_in_place_op_with_an_operand_requiring_grad_is_recorded_like_pytorch():
    # x is a plain leaf: x += w records add, and x becomes a non-leaf depending on w
    x, w = tg.Tensor(np.ones(2)), tg.Tensor(np.array([2.0, 3.0]), requires_grad=True)
    y = x
    x *= 4.0  # nothing requires grad yet: a plain change, not recorded
    x += w * w
    assert x is y and x.requires_grad and not x.is_leaf and x.grad_fn.name == "add"
    (x * x).sum().backward()
    np.testing.assert_allclose(w.grad.data, 2 * x.data * 2 * w.data)


def test_in_place_shape_mismatch_names_both_shapes():
    x = tg.Tensor(np.ones(2))
    with pytest.raises(ValueError, match=re.escape("(2,) and (3,)")):
        x += np.ones(3)


def test_modifying_a_saved_input_is_caught_at_backward():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = tg.Tensor(np.array([3.0, 4.0]))
    y = x * c  # saves c for dL/dx = c
    c += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_modifying_a_saved_output_is_caught_at_backward():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tg.exp(x)  # exp saves its output
    with tg.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


@pytest.mark.parametrize(
    "alias",
    [
        lambda t: t.detach(),
        lambda t: t.detach().reshape(3),
        lambda t: t.detach()[:],
        lambda t: t.detach().T,
    ],
    ids=["detach", "reshape", "slice", "T"],
)
def test_modifying_saved_data_through_a_detached_alias_is_caught_at_backward(alias):
    # PyTorch shares the version counter between a tensor and its detached views: the change
    # corrupts the saved w, so backward must refuse instead of returning a wrong gradient.
    w = tg.Tensor(np.ones(3), requires_grad=True)
    y = w * w  # saves w for dL/dw = 2 w
    view = alias(w)
    view += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_modifying_a_saved_constant_through_a_view_is_caught_at_backward():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    c = tg.Tensor(np.ones(3))
    loss = (w * c).sum()  # saves c for dL/dw = c
    view = c.reshape(3)
    view += 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_a_saved_tensor_may_change_again_once_its_graph_is_freed():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = tg.Tensor(np.array([3.0, 4.0]))
    (x * c).sum().backward()
    c += 1  # the graph that saved c is gone: nothing left to corrupt
    x.grad = None
    (x * c).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 5.0])


def test_optimiser_style_update_under_no_grad_keeps_the_leaf():
    w = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w * w).sum().backward()
    with tg.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, [0.8, 1.6])


def test_importing_tinygrad_dl_loads_no_optional_package():
    import subprocess

    code = (
        "import sys, tinygrad_dl; "
        "bad = [m for m in ('hypothesis', 'torch', 'matplotlib', 'sklearn', 'tqdm') "
        "if m in sys.modules]; print(bad)"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "[]"


# -- the class written out whole, layers one-way ---------------------------------------------
def test_every_method_of_tensor_is_written_in_its_class_body():
    # A method attached from elsewhere (setattr) would carry the other module's name.
    for name, value in vars(tg.Tensor).items():
        function = value.fget if isinstance(value, property) else value
        if callable(function) and hasattr(function, "__module__"):
            assert function.__module__ == "tinygrad_dl.tensor", (name, function.__module__)
    for name in ("__add__", "__rmatmul__", "__getitem__", "__array_ufunc__", "sum", "reshape"):
        assert name in vars(tg.Tensor), name
        assert vars(tg.Tensor)[name].__doc__, f"Tensor.{name} has no docstring"


def _module_level_imports(path: Path, package: str, modules: set[str]) -> set[str]:
    """Which of ``modules`` the file imports at module level (not under TYPE_CHECKING)."""
    import ast

    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
            else:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules
            # ``from . import shape`` needs the submodule; ``from .x import f`` needs x itself
            found.update(submodules or {base})
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & modules


def test_tensor_autograd_and_ops_import_each_other_one_way_only():
    # tensor <- autograd <- ops: an import cycle at module level among them is refused.
    root = Path(tg.__file__).resolve().parent
    files = {"tinygrad_dl.tensor": root / "tensor.py", "tinygrad_dl.autograd": root / "autograd.py"}
    for path in sorted((root / "ops").glob("*.py")):
        name = "tinygrad_dl.ops" if path.stem == "__init__" else f"tinygrad_dl.ops.{path.stem}"
        files[name] = path
    graph = {}
    for name, path in files.items():
        package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
        graph[name] = _module_level_imports(path, package, set(files)) - {name}
    assert not graph["tinygrad_dl.tensor"], graph["tinygrad_dl.tensor"]
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in graph[name]:
            assert state.get(other) != 1, f"import cycle: {' -> '.join(path + [other])}"
            if other not in state:
                visit(other, path + [other])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("first", ["tinygrad_dl.ops.shape", "tinygrad_dl.autograd", "tinygrad_dl"])
def test_any_module_imports_first_and_the_methods_work(first):
    import subprocess

    code = (
        f"import importlib; importlib.import_module({first!r}); "
        "from tinygrad_dl.tensor import Tensor; "
        "x = Tensor([1.0, 2.0], requires_grad=True); (x * x).sum().backward(); "
        "print(x.grad.tolist())"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "[2.0, 4.0]"


# -- the methods of ops.elementwise's and ops.reduce's newer functions, under PyTorch's names --
_TORCH_NAMED = {
    # method call on a Tensor (the same call works on a torch tensor) -> its input range
    "sign": (lambda t: t.sign(), 1.0),
    "floor": (lambda t: t.floor(), 3.0),
    "ceil": (lambda t: t.ceil(), 3.0),
    "trunc": (lambda t: t.trunc(), 3.0),
    "round": (lambda t: t.round(), 3.0),
    "tan": (lambda t: t.tan(), 1.0),
    "sinh": (lambda t: t.sinh(), 3.0),
    "cosh": (lambda t: t.cosh(), 3.0),
    "asin": (lambda t: t.asin(), 0.9),
    "acos": (lambda t: t.acos(), 0.9),
    "atan": (lambda t: t.atan(), 3.0),
    "asinh": (lambda t: t.asinh(), 3.0),
    "atanh": (lambda t: t.atanh(), 0.9),
    "log2": (lambda t: (t * t + 0.1).log2(), 3.0),
    "log10": (lambda t: (t * t + 0.1).log10(), 3.0),
    "exp2": (lambda t: t.exp2(), 3.0),
    "expm1": (lambda t: t.expm1(), 3.0),
    "sinc": (lambda t: t.sinc(), 3.0),
    "prod": (lambda t: t.prod(dim=-1, keepdim=True), 3.0),
    "cumprod": (lambda t: t.cumprod(dim=0), 3.0),
    "diff": (lambda t: t.diff(dim=0), 3.0),
    "fmod": (lambda t: t.fmod(0.7), 3.0),
    "remainder": (lambda t: t.remainder(0.7), 3.0),
    "copysign": (lambda t: t.copysign(-t[:1]), 3.0),
    "fmax": (lambda t: t.fmax(0.3 - t), 3.0),
    "fmin": (lambda t: t.fmin(0.3 - t), 3.0),
    "hypot": (lambda t: t.hypot(t * 0.5 + 2), 3.0),
    "atan2": (lambda t: t.atan2(t * t + 1), 3.0),
    "logaddexp": (lambda t: t.logaddexp(t * 0.5), 3.0),
    "logaddexp2": (lambda t: t.logaddexp2(-t), 3.0),
}


@pytest.mark.parametrize("name", sorted(_TORCH_NAMED))
def test_newer_elementwise_and_running_methods_match_torch_under_its_names(name):
    torch = pytest.importorskip("torch", reason="torch is the optional differential peer")
    function, scale = _TORCH_NAMED[name]
    x = np.random.default_rng(3).uniform(-scale, scale, size=(3, 4))
    ours = tg.Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = function(ours), function(theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, err_msg=name)
    weights = np.random.default_rng(4).standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, err_msg=name)


def test_no_method_is_defined_twice_in_the_class_body():
    # A second ``def`` of the same name silently replaces the first (two branches adding the
    # same method merge cleanly into such a pair).
    import ast
    from collections import Counter

    source = (Path(tg.__file__).resolve().parent / "tensor.py").read_text()
    (tensor_class,) = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.ClassDef) and node.name == "Tensor"
    ]
    names = Counter(
        node.name
        for node in tensor_class.body
        if isinstance(node, ast.FunctionDef)
        and not any(
            isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter")
            for d in node.decorator_list
        )
    )
    assert not [name for name, count in names.items() if count > 1], names.most_common(3)
