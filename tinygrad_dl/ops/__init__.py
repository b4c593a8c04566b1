"""Every differentiable op, forward and gradient rule together, and the Tensor's operators.

- :mod:`.activations`: PyTorch's activations beyond the course's (GELU, SiLU, ELU...), ``erf``
- :mod:`.elementwise`: arithmetic, activations, ``maximum``/``minimum``/``where``/``clip``
- :mod:`.reduce`: ``sum``, ``mean``, ``max``, ``min``, ``var``, ``std``, softmax family
- :mod:`.shape`: reshape, transpose, broadcast, indexing, concatenate/stack/split, casts
- :mod:`.indexing`: sort, topk, take, gather/take_along_axis, scatter/put_along_axis (out of
  place), index_select, masked_fill, partition
- :mod:`.dialect`: the package-level reductions and joins with ``dim=``/``keepdim=`` as well
- :mod:`.linalg`: ``matmul``, ``dot``, ``einsum`` and the products on it, diagonals, ``np.linalg``
- :mod:`.grids`: ``np.linspace`` with Tensor endpoints and ``np.gradient``
- :mod:`.inplace`: ``x += y``, ``x[index] = v``, ``fill_`` on tensors in the graph
- :mod:`.complex_parts`: ``np.real``, ``np.imag``, ``np.conj``, ``np.angle`` on real Tensors
- :mod:`.numpy_dispatch`: NumPy ufuncs and functions on Tensors
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from ..autograd import Op
from . import (
    activations,
    dialect,
    elementwise,
    grids,
    indexing,
    inplace,
    linalg,
    numpy_dispatch,
    reduce,
    shape,
)
from .activations import erf
from .broadcast import unbroadcast
from .dialect import (
    argmax,
    argmin,
    cat,
    clamp,
    concatenate,
    cummax,
    cummin,
    cumprod,
    cumsum,
    expand_dims,
    flatten,
    flip,
    isfinite,
    isinf,
    isnan,
    lerp,
    log_softmax,
    logcumsumexp,
    logsumexp,
    max,
    mean,
    min,
    repeat,
    roll,
    softmax,
    split,
    squeeze,
    stack,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .elementwise import (
    abs,
    add,
    clip,
    cos,
    div,
    exp,
    leaky_relu,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from .grids import gradient, linspace
from .indexing import (
    argsort,
    gather,
    index_select,
    masked_fill,
    partition,
    put_along_axis,
    scatter,
    scatter_add,
    sort,
    take,
    take_along_axis,
    topk,
)
from .linalg import (
    cross,
    diag,
    diagonal,
    dot,
    einsum,
    inner,
    kron,
    matmul,
    outer,
    tensordot,
    trace,
    tril,
    triu,
)
from .shape import (
    append,
    array_split,
    astype,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    column_stack,
    dsplit,
    dstack,
    fliplr,
    flipud,
    hsplit,
    hstack,
    moveaxis,
    pad,
    ravel,
    reshape,
    rollaxis,
    rot90,
    swapaxes,
    tile,
    to_device,
    transpose,
    vsplit,
    vstack,
)

__all__ = [
    "all_ops",
    "rule_table",
    "activations",
    "dialect",
    "elementwise",
    "indexing",
    "inplace",
    "linalg",
    "numpy_dispatch",
    "reduce",
    "shape",
    "unbroadcast",
    "abs",
    "add",
    "clip",
    "cos",
    "div",
    "exp",
    "leaky_relu",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "power",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "square",
    "sub",
    "tanh",
    "where",
    "argsort",
    "gather",
    "index_select",
    "masked_fill",
    "partition",
    "put_along_axis",
    "scatter",
    "scatter_add",
    "sort",
    "take",
    "take_along_axis",
    "topk",
    "dot",
    "matmul",
    "argmax",
    "argmin",
    "cat",
    "cross",
    "diag",
    "diagonal",
    "einsum",
    "inner",
    "kron",
    "outer",
    "tensordot",
    "trace",
    "tril",
    "triu",
    "gradient",
    "linspace",
    "grids",
    "append",
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "dstack",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "moveaxis",
    "pad",
    "ravel",
    "repeat",
    "roll",
    "rollaxis",
    "rot90",
    "tile",
    "vstack",
    "vsplit",
    "hsplit",
    "dsplit",
    "log_softmax",
    "logsumexp",
    "max",
    "mean",
    "min",
    "softmax",
    "std",
    "sum",
    "var",
    "astype",
    "to_device",
    "broadcast_to",
    "concatenate",
    "expand_dims",
    "flatten",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "transpose",
    "clamp",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "isfinite",
    "isinf",
    "isnan",
    "lerp",
    "logcumsumexp",
    "std_mean",
    "var_mean",
    "erf",
]


def all_ops() -> list[tuple[str, str, Op]]:
    """Every :class:`~tinygrad_dl.autograd.Op` defined in a module of ``ops`` or ``nn``.

    Returns
    -------
    list of (module, attribute, Op)
        Sorted by module, then by the name the module gives the Op (``"ops.elementwise"``,
        ``"MUL"``, ``<Op mul>``); an Op bound under two names is listed once.
    """
    # nn builds on ops, so it is imported here, when the table is asked for, not at import.
    from .. import nn

    found: dict[int, tuple[str, str, Op]] = {}
    for package in (sys.modules[__name__], nn):
        prefix = package.__name__.removeprefix("tinygrad_dl.")
        for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            for attribute, value in sorted(vars(module).items()):
                if isinstance(value, Op) and id(value) not in found:
                    found[id(value)] = (f"{prefix}.{module_info.name}", attribute, value)
    return sorted(found.values(), key=lambda row: (row[0], row[1]))


def rule_table() -> str:
    """The gradient rule of every op as one markdown table, to check in one sitting.

    Notation: ``Y`` is an op's output and ``dY`` the gradient of the cost with respect to it
    (the course's ``dA``); ``A, B`` or ``X`` its inputs; ``unbroadcast`` sums over the axes
    broadcasting added.

    Returns
    -------
    str
        A markdown table with one row per op: its name, where it is defined and its rule.
    """
    lines = ["| op | defined as | gradient rule |", "|---|---|---|"]
    for module, attribute, op in all_ops():
        rule = op.rule.replace("|", "\\|")
        lines.append(f"| `{op.name}` | `{module}.{attribute}` | `{rule}` |")
    return "\n".join(lines) + "\n"
