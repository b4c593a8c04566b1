"""NumPy interoperability: ``__array_ufunc__`` and ``__array_function__`` for ``Tensor``.

NumPy code runs on Tensors and is differentiated: ``np.dot(W, A) + b``,
``1 / (1 + np.exp(-Z))``, ``np.maximum(0, Z)``, ``np.sum(dZ, axis=1, keepdims=True)``. Each
NumPy ufunc or function maps to the op with the same meaning. One with no gradient rule
raises ``TypeError`` naming it by its real module (``np.linalg.inv``): it never returns a plain
array that silently drops the graph. Piecewise-constant float results (``np.sign``,
``np.floor``, ``np.round``...) stay in the graph with gradient 0, as in PyTorch; discrete
results (comparisons, ``argmax``, ``argsort``, ``nonzero``, ``np.unique``'s indices and counts)
come back as integer or boolean Tensors outside the graph; queries (``np.shape``,
``np.allclose``...) return their plain values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import is_grad_enabled
from ..tensor import Tensor, _new_tensor
from . import complex_parts, grids, indexing, linalg, reduce, shape
from . import elementwise as ew

# NumPy's own parameter names (np.reshape's and np.broadcast_to's ``shape``) shadow the module
# inside the wrappers below, so they reach it under this name.
shape_ops = shape

__all__ = ["array_ufunc", "array_function", "numpy_name", "UFUNCS", "FUNCTIONS"]


def _values(args: Any) -> Any:
    """Tensors replaced by their arrays, through lists and tuples."""
    if isinstance(args, Tensor):
        return args.data
    if isinstance(args, (list, tuple)):
        return type(args)(_values(a) for a in args)
    return args


def _outside_graph(function):
    """A NumPy function whose result carries no gradient: computed on values, wrapped."""

    def run(*args: Any, **kwargs: Any) -> Any:
        result = function(*_values(args), **_values(kwargs))
        if isinstance(result, np.ndarray) or isinstance(result, np.generic):
            return _new_tensor(np.asarray(result))
        return result

    return run


def _records_graph(args: Any) -> bool:
    """Whether an op on ``args`` would be recorded: grad mode on and a Tensor requiring grad.

    Only then would a function without a gradient rule drop a graph; otherwise (constants,
    ``no_grad``, a ``tg.Function``'s forward) it runs on the values.
    """
    if not is_grad_enabled():
        return False
    if isinstance(args, Tensor):
        return args.requires_grad
    if isinstance(args, (list, tuple)):
        return any(_records_graph(a) for a in args)
    if isinstance(args, dict):
        return any(_records_graph(a) for a in args.values())
    return False


def _plain(function):
    """A query on values (shape, closeness): the plain NumPy answer."""

    def run(*args: Any, **kwargs: Any) -> Any:
        return function(*_values(args), **_values(kwargs))

    return run


UFUNCS: dict[np.ufunc, Any] = {
    np.add: ew.add,
    np.subtract: ew.sub,
    np.multiply: ew.mul,
    np.true_divide: ew.div,
    np.power: ew.power,
    np.float_power: lambda a, b: ew.power(ew.mul(a, 1.0), b),
    np.negative: ew.neg,
    np.positive: lambda x: x,
    np.exp: ew.exp,
    np.log: ew.log,
    np.log1p: ew.log1p,
    np.sqrt: ew.sqrt,
    np.square: ew.square,
    np.reciprocal: lambda x: ew.div(1.0, x),
    np.absolute: ew.abs,
    np.fabs: ew.abs,
    np.sin: ew.sin,
    np.cos: ew.cos,
    np.tanh: ew.tanh,
    np.maximum: ew.maximum,
    np.minimum: ew.minimum,
    np.matmul: linalg.matmul,
    np.log2: ew.log2,
    np.log10: ew.log10,
    np.exp2: ew.exp2,
    np.expm1: ew.expm1,
    np.tan: ew.tan,
    np.sinh: ew.sinh,
    np.cosh: ew.cosh,
    np.arcsin: ew.arcsin,
    np.arccos: ew.arccos,
    np.arctan: ew.arctan,
    np.arcsinh: ew.arcsinh,
    np.arccosh: ew.arccosh,
    np.arctanh: ew.arctanh,
    np.sign: ew.sign,
    np.floor: ew.floor,
    np.ceil: ew.ceil,
    np.trunc: ew.trunc,
    np.rint: ew.rint,
    np.remainder: ew.remainder,  # also np.mod, the same ufunc
    np.fmod: ew.fmod,
    np.floor_divide: ew.floor_divide,
    np.copysign: ew.copysign,
    np.fmax: ew.fmax,
    np.fmin: ew.fmin,
    np.hypot: ew.hypot,
    np.arctan2: ew.arctan2,
    np.logaddexp: ew.logaddexp,
    np.logaddexp2: ew.logaddexp2,
    # angle conversions: a scaling by pi / 180 or 180 / pi
    np.deg2rad: lambda x: ew.mul(x, math.pi / 180),
    np.radians: lambda x: ew.mul(x, math.pi / 180),
    np.rad2deg: lambda x: ew.mul(x, 180 / math.pi),
    np.degrees: lambda x: ew.mul(x, 180 / math.pi),
    np.conjugate: complex_parts.conj,  # also np.conj, the same ufunc
}
for _ufunc in (
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.equal,
    np.not_equal,
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.bitwise_and,
    np.bitwise_or,
    np.bitwise_xor,
):
    UFUNCS[_ufunc] = (lambda u: lambda a, b: ew.compare(u, a, b))(_ufunc)
for _ufunc in (np.isfinite, np.isnan, np.isinf, np.logical_not, np.invert, np.signbit):
    UFUNCS[_ufunc] = _outside_graph(_ufunc)  # boolean results


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out("sum", out, dtype, kwargs)
    return reduce.sum(a, axis=axis, keepdims=keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out("mean", out, dtype, kwargs)
    return reduce.mean(a, axis=axis, keepdims=keepdims)


def _max(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out("max", out, None, kwargs)
    return reduce.max(a, axis=axis, keepdims=keepdims)


def _min(a, axis=None, out=None, keepdims=False, **kwargs):
    _no_out("min", out, None, kwargs)
    return reduce.min(a, axis=axis, keepdims=keepdims)


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    _no_out("var", out, dtype, kwargs)
    return reduce.var(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    _no_out("std", out, dtype, kwargs)
    return reduce.std(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _prod(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    _no_out("prod", out, dtype, kwargs)
    return reduce.prod(a, axis=axis, keepdims=keepdims)


def _cumsum(a, axis=None, dtype=None, out=None):
    _no_out("cumsum", out, dtype, {})
    return reduce.cumsum(a, axis=axis)


def _cumprod(a, axis=None, dtype=None, out=None):
    _no_out("cumprod", out, dtype, {})
    return reduce.cumprod(a, axis=axis)


def _round(a, decimals=0, out=None):
    if out is not None:
        raise TypeError("np.round on a Tensor: out= is not supported")
    return ew.round(a, decimals)


def _unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, **kw):
    """np.unique: the values keep the graph, each taken from its first occurrence in ``ar``
    (the gradient of a repeated value goes there); indices and counts are integer results."""
    source = ar if isinstance(ar, Tensor) else _new_tensor(np.asarray(ar))
    results = np.unique(
        source.data,
        return_index=True,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        **kw,
    )
    first = results[1]
    if axis is None:
        values = shape_ops.flatten(source)[first]
    else:
        axis = reduce.normalize_axes("unique", axis, source.data.ndim)[0]
        values = source[(slice(None),) * axis + (first,)]
    integers = ([first] if return_index else []) + list(results[2:])
    if not integers:
        return values
    return (values, *(_new_tensor(np.asarray(r)) for r in integers))


def _nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    return ew.nan_to_num(x, nan, posinf, neginf)  # copy=False (in place) is never needed here


def _fix(x, out=None):
    if out is not None:
        raise TypeError("np.fix on a Tensor: out= is not supported")
    return ew.trunc(x)


def _no_out(name: str, out: Any, dtype: Any, kwargs: dict) -> None:
    unsupported = [k for k, v in kwargs.items() if v is not np._NoValue and v is not None]
    if out is not None:
        unsupported.append("out")
    if dtype is not None:
        unsupported.append("dtype")
    if unsupported:
        raise TypeError(f"np.{name} on a Tensor: argument(s) {unsupported} are not supported")


def _reshape(a, shape=None, order="C", **kwargs):
    if order != "C":
        raise TypeError("np.reshape on a Tensor: only order='C' is supported")
    if shape is None:
        shape = kwargs.pop("newshape")
    return shape_ops.reshape(a, shape)


def _clip(a, a_min=None, a_max=None, out=None, **kwargs):
    if out is not None:
        raise TypeError("np.clip on a Tensor: out= is not supported")
    a_min = kwargs.pop("min", a_min)
    a_max = kwargs.pop("max", a_max)
    return ew.clip(a, a_min, a_max)


def _where(condition, x=None, y=None):
    if x is None and y is None:
        return _outside_graph(np.where)(condition)
    return ew.where(condition, x, y)


def _select(condlist, choicelist, default=0):
    """np.select: the first true condition picks its choice; one ``where`` per choice, from
    the last to the first, so the earliest wins (each passes dY where it was picked)."""
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"np.select: list of cases must be same length as list of conditions; got "
            f"{len(condlist)} conditions and {len(choicelist)} choices"
        )
    conditions = [np.asarray(_values(c)) for c in condlist]
    for position, condition in enumerate(conditions):
        if condition.dtype != bool:  # NumPy refuses too: a float mask would be truthiness
            raise TypeError(
                f"np.select: invalid entry {position} in condlist: should be boolean, "
                f"got dtype {condition.dtype}"
            )
    result = default
    for condition, choice in zip(reversed(conditions), reversed(choicelist)):
        result = ew.where(condition, choice, result)
    if not isinstance(result, Tensor):  # no choices at all: NumPy's result is the default
        return _new_tensor(np.select(_values(condlist), [], default))
    return result


def _transpose(a, axes=None):
    return shape_ops.transpose(a, axes)


def _squeeze(a, axis=None):
    return shape_ops.squeeze(a, axis)


def _concatenate(arrays, axis=0, out=None, **kwargs):
    if out is not None:
        raise TypeError("np.concatenate on a Tensor: out= is not supported")
    return shape_ops.concatenate(arrays, axis=axis)


def _stack(arrays, axis=0, out=None, **kwargs):
    if out is not None:
        raise TypeError("np.stack on a Tensor: out= is not supported")
    return shape_ops.stack(arrays, axis=axis)


def _copy(a, *args, **kwargs):
    return ew.mul(a, 1)


def _sort(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise TypeError("np.sort on a Tensor: order= (structured arrays) is not supported")
    return indexing.sort(a, axis, stable=bool(stable) or kind == "stable")[0]


def _partition(a, kth, axis=-1, kind="introselect", order=None):
    if order is not None:
        raise TypeError("np.partition on a Tensor: order= (structured arrays) is not supported")
    return indexing.partition(a, kth, axis)


def _take(a, indices, axis=None, out=None, mode="raise"):
    if out is not None or mode != "raise":
        raise TypeError("np.take on a Tensor: out= and mode= other than 'raise' are not supported")
    return indexing.take(a, indices, axis)


def _put_along_axis(arr, indices, values, axis):
    # NumPy writes into arr and returns None. That is done here too where no graph can be
    # corrupted; a tensor in the graph is refused (returning a new one would leave arr unchanged
    # while the caller believes it changed: silently wrong).
    if not isinstance(arr, Tensor):
        raise TypeError(
            "np.put_along_axis writes into its first argument in place, which must then be an "
            "ndarray; use tg.ops.put_along_axis(arr, indices, values, axis) for a new Tensor"
        )
    grads = arr.requires_grad or (isinstance(values, Tensor) and values.requires_grad)
    if grads and is_grad_enabled():
        raise RuntimeError(
            "np.put_along_axis changes a Tensor in place, which cannot be recorded for its "
            "gradient; write arr = tg.ops.put_along_axis(arr, indices, values, axis) (out of "
            "place, differentiable)"
        )
    result = indexing.put_along_axis(arr.detach(), indices, _values(values), axis)
    arr[...] = result.data.reshape(arr.shape)  # through __setitem__'s in-place bookkeeping


FUNCTIONS: dict[Any, Any] = {
    np.dot: linalg.dot,
    np.matmul: linalg.matmul,
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.min: _min,
    np.amin: _min,
    np.var: _var,
    np.std: _std,
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.swapaxes: shape.swapaxes,
    np.expand_dims: shape.expand_dims,
    np.squeeze: _squeeze,
    np.broadcast_to: lambda array, shape, subok=False: shape_ops.broadcast_to(array, shape),
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.split: lambda ary, indices_or_sections, axis=0: shape.split(ary, indices_or_sections, axis),
    np.where: _where,
    np.clip: _clip,
    np.maximum: ew.maximum,
    np.minimum: ew.minimum,
    np.copy: _copy,
    np.sort: _sort,
    np.partition: _partition,
    np.take: _take,
    np.take_along_axis: indexing.take_along_axis,
    np.put_along_axis: _put_along_axis,
    np.prod: _prod,
    np.cumsum: _cumsum,
    np.cumprod: _cumprod,
    np.diff: lambda a, n=1, axis=-1, prepend=None, append=None: reduce.diff(
        a, n, axis, prepend, append
    ),
    np.sinc: ew.sinc,
    np.round: _round,
    np.around: _round,
    np.fix: _fix,
    np.nan_to_num: _nan_to_num,
    np.unique: _unique,
    np.select: _select,
    np.real: complex_parts.real,
    np.imag: complex_parts.imag,
    np.angle: complex_parts.angle,
    np.real_if_close: complex_parts.real_if_close,
}
for _function in (
    np.shape,
    np.ndim,
    np.size,
    np.allclose,
    np.array_equal,
    np.isclose,
    np.result_type,
    np.iscomplexobj,
    np.isrealobj,
    np.count_nonzero,
    np.any,
    np.all,
    np.array_equiv,
):
    FUNCTIONS[_function] = _plain(_function)
for _function in (
    np.argmax,
    np.argmin,
    np.argsort,
    np.nonzero,
    np.zeros_like,
    np.ones_like,
    np.empty_like,
    np.full_like,
    np.flatnonzero,
):
    FUNCTIONS[_function] = _outside_graph(_function)
if hasattr(np, "astype"):
    FUNCTIONS[np.astype] = lambda x, dtype, copy=True, **kw: shape.astype(x, dtype)


def numpy_name(function: Any) -> str:
    """``function``'s public NumPy name: ``np.linalg.inv``, ``np.fft.fft``, ``np.sum``.

    Private submodules (``numpy._core.fromnumeric``) are left out, as users never write them.
    """
    module = getattr(function, "__module__", None) or "numpy"
    parts = [p for p in module.split(".") if not p.startswith("_")]
    if parts and parts[0] == "numpy":
        parts[0] = "np"
    return ".".join(parts + [getattr(function, "__name__", repr(function))])


# The gufuncs of NumPy 2.2 for stacked vector products.
for _name, _function in (
    ("vecdot", linalg.vecdot),
    ("matvec", linalg.matvec),
    ("vecmat", linalg.vecmat),
):
    if hasattr(np, _name):
        UFUNCS[getattr(np, _name)] = _function


def _no_out_arguments(name: str, function: Any) -> Any:
    """``function`` refusing NumPy's ``out=``/``dtype=`` (a Tensor result is always new)."""

    def run(*args: Any, out: Any = None, dtype: Any = None, **kwargs: Any) -> Any:
        if out is not None or dtype is not None:
            raise TypeError(f"{name} on a Tensor: out= and dtype= are not supported")
        return function(*args, **kwargs)

    return run


# Products, np.linalg, and the shape and grid functions (ops/linalg.py, shape.py, grids.py).
FUNCTIONS.update(
    {
        np.einsum: linalg.einsum,
        np.tensordot: linalg.tensordot,
        np.inner: linalg.inner,
        np.outer: _no_out_arguments("np.outer", linalg.outer),
        np.kron: linalg.kron,
        np.cross: linalg.cross,
        np.trace: linalg.trace,
        np.diag: linalg.diag,
        np.diagonal: linalg.diagonal,
        np.tril: linalg.tril,
        np.triu: linalg.triu,
        np.linalg.norm: linalg.norm,
        np.linalg.vector_norm: linalg.vector_norm,
        np.linalg.matrix_norm: linalg.matrix_norm,
        np.linalg.inv: linalg.inv,
        np.linalg.pinv: linalg.pinv,
        np.linalg.det: linalg.det,
        np.linalg.slogdet: linalg.slogdet,
        np.linalg.solve: linalg.solve,
        np.linalg.cholesky: linalg.cholesky,
        np.linalg.eigh: linalg.eigh,
        np.linalg.eigvalsh: linalg.eigvalsh,
        np.linalg.svd: linalg.svd,
        np.linalg.svdvals: linalg.svdvals,
        np.linalg.qr: linalg.qr,
        np.linalg.matmul: linalg.matmul,
        np.linalg.outer: linalg.outer,
        np.linalg.cross: lambda x1, x2, /, *, axis=-1: linalg.cross(x1, x2, axis=axis),
        np.linalg.trace: lambda x, /, *, offset=0, dtype=None: linalg.trace(
            x, offset, -2, -1, dtype=dtype
        ),
        np.linalg.diagonal: lambda x, /, *, offset=0: linalg.diagonal(x, offset, -2, -1),
        np.linalg.tensordot: lambda x1, x2, /, *, axes=2: linalg.tensordot(x1, x2, axes),
        np.linalg.vecdot: linalg.vecdot,
        np.linalg.matrix_transpose: linalg.matrix_transpose,
        np.linalg.multi_dot: linalg.multi_dot,
        np.linalg.matrix_power: linalg.matrix_power,
        np.linalg.lstsq: linalg.lstsq,
        np.vdot: linalg.vdot,
        np.pad: shape.pad,
        np.repeat: shape.repeat,
        np.tile: lambda A, reps: shape_ops.tile(A, reps),
        np.roll: shape.roll,
        np.flip: lambda m, axis=None: shape_ops.flip(m, axis),
        np.fliplr: shape.fliplr,
        np.flipud: shape.flipud,
        np.moveaxis: shape.moveaxis,
        np.rollaxis: shape.rollaxis,
        np.ravel: lambda a, order="C": shape_ops.ravel(a, order),
        np.atleast_1d: shape.atleast_1d,
        np.atleast_2d: shape.atleast_2d,
        np.atleast_3d: shape.atleast_3d,
        np.vstack: _no_out_arguments("np.vstack", lambda tup, casting=None: shape_ops.vstack(tup)),
        np.hstack: _no_out_arguments("np.hstack", lambda tup, casting=None: shape_ops.hstack(tup)),
        np.dstack: shape.dstack,
        np.column_stack: shape.column_stack,
        np.append: shape.append,
        np.array_split: shape.array_split,
        np.vsplit: shape.vsplit,
        np.hsplit: shape.hsplit,
        np.dsplit: shape.dsplit,
        np.rot90: shape.rot90,
        np.gradient: grids.gradient,
        np.linspace: grids.linspace,
    }
)


def array_ufunc(tensor: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
    """``Tensor.__array_ufunc__``: route a NumPy ufunc call to the matching op."""
    if method == "__call__" and not kwargs:  # the common case, kept short
        implementation = UFUNCS.get(ufunc)
        if implementation is not None:
            return implementation(*inputs)
    if method != "__call__":
        if ufunc is np.add and method == "reduce":
            axis = kwargs.get("axis", 0)
            return reduce.sum(inputs[0], axis=axis, keepdims=kwargs.get("keepdims", False))
        raise TypeError(
            f"np.{ufunc.__name__}.{method} is not supported on Tensors (no gradient rule)"
        )
    if kwargs.get("out") is not None:
        raise TypeError(
            f"np.{ufunc.__name__}(..., out=...) on a Tensor: in-place output is not supported; "
            f"assign the result instead"
        )
    extra = {k: v for k, v in kwargs.items() if k != "out"}
    if extra and not (set(extra) <= {"dtype", "casting"} and extra.get("dtype") is None):
        raise TypeError(
            f"np.{ufunc.__name__} on a Tensor: arguments {sorted(extra)} are not supported"
        )
    implementation = UFUNCS.get(ufunc)
    if implementation is None:
        if not _records_graph(inputs):
            return _outside_graph(ufunc)(*inputs, **extra)
        raise TypeError(
            f"np.{ufunc.__name__} has no gradient rule in tinygrad_dl, so it cannot run on a "
            f"Tensor (it would silently drop the graph); use .detach().numpy() for values"
        )
    return implementation(*inputs)


def array_function(tensor: Tensor, function: Any, types: Any, args: Any, kwargs: dict):
    """``Tensor.__array_function__``: route a NumPy function call to the matching op."""
    implementation = FUNCTIONS.get(function)
    if implementation is None:
        if not _records_graph((args, kwargs)):
            return _outside_graph(function)(*args, **kwargs)
        raise TypeError(
            f"{numpy_name(function)} has no gradient rule in tinygrad_dl, so it cannot run on a "
            f"Tensor (it would silently drop the graph); use .detach().numpy() for values"
        )
    return implementation(*args, **kwargs)
