"""Linear algebra: ``matmul`` and ``dot``, ``einsum`` and the products built on it
(``tensordot``, ``inner``, ``outer``, ``kron``, ``cross``), diagonals and triangles, and the
``np.linalg`` functions (``norm``, ``inv``, ``pinv``, ``det``, ``slogdet``, ``solve``,
``cholesky``, ``eigh``, ``svd``, ``qr``).

For ``Z = W A`` the gradient rule is the course's: ``dW = dZ A^T`` and ``dA = W^T dZ`` (the
``1/m`` of ``dW^[l] = (1/m) dZ^[l] A^[l-1]^T`` comes from the mean in the cost). An input that
needs no gradient costs nothing: with ``A^[0] = X`` no ``dX`` GEMM is run.

Every vjp here is written with operators and ``np.*`` calls, which dispatch to these ops on
Tensors, so under ``create_graph=True`` the gradient is itself differentiable. A
decomposition with several outputs (``eigh``, ``svd``, ``qr``) is one recorded op whose output
packs them; each output is a slice of it, so their gradients meet in one vjp.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .. import backend as _backend
from ..autograd import Op, record, record_binary
from ..backend import foreign, is_numpy, namespace, xlinalg, xnp
from ..tensor import Tensor, _new_tensor
from .broadcast import as_tensor, mixed_device_error, unbroadcast
from .elementwise import abs as _abs
from .elementwise import mul
from .reduce import max as _max
from .reduce import min as _min
from .reduce import normalize_axes
from .reduce import sum as _sum
from .shape import _join, broadcast_to, flatten, moveaxis, reshape, stack

__all__ = [
    "matmul",
    "dot",
    "einsum",
    "tensordot",
    "inner",
    "outer",
    "kron",
    "cross",
    "diagonal",
    "trace",
    "diag",
    "tril",
    "triu",
    "LinAlgError",
    "norm",
    "vector_norm",
    "matrix_norm",
    "inv",
    "pinv",
    "det",
    "slogdet",
    "solve",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "qr",
    "vdot",
    "vecdot",
    "matvec",
    "vecmat",
    "matrix_transpose",
    "multi_dot",
    "matrix_power",
    "lstsq",
]


def _matmul_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    if a.ndim == 2 and b.ndim == 2:  # the course's case, kept free of reshapes
        return (
            g @ b.T if needs[0] else None,
            a.T @ g if needs[1] else None,
        )
    # General case: promote 1-D operands to matrices as NumPy does, then undo the promotion.
    a2 = _reshape(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = _reshape(b, b.shape + (1,)) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = xnp.expand_dims(g2, -2) if b.ndim > 1 else _reshape(g2, (1,) + g2.shape)
    if b.ndim == 1:
        g2 = xnp.expand_dims(g2, -1)
    grad_a = grad_b = None
    if needs[0]:
        grad_a = _reshape(unbroadcast(g2 @ _swap_last(b2), a2.shape), a.shape)
    if needs[1]:
        grad_b = _reshape(unbroadcast(_swap_last(a2) @ g2, b2.shape), b.shape)
    return grad_a, grad_b


def _reshape(x: Any, shape: tuple[int, ...]) -> Any:
    """``x.reshape(shape)`` for ndarrays and Tensors, the namespace's reshape for others."""
    if type(x) is np.ndarray or not foreign(x):
        return x.reshape(shape)
    return namespace(x).reshape(x, shape)


def _swap_last(x: Any) -> Any:
    """The last two axes swapped (a stack of matrices transposed)."""
    if type(x) is np.ndarray or not foreign(x):
        return np.swapaxes(x, -1, -2)
    return namespace(x).matrix_transpose(x)


MATMUL = Op(
    "matmul",
    lambda a, b, _: a @ b,
    _matmul_vjp,
    rule="dA = dY @ B.T, dB = A.T @ dY (batched and 1-d: unbroadcast, promoted axes removed)",
)


def _matmul_error(a_shape: tuple, b_shape: tuple) -> ValueError | None:
    """The shape error of ``a @ b``, or ``None`` when the shapes do fit (another failure)."""
    if not a_shape or not b_shape:
        return ValueError(
            f"matmul: shapes {a_shape} and {b_shape}: operands must have at least one dimension "
            f"(use * for scalars)"
        )
    inner_a = a_shape[-1]
    axis_b = 0 if len(b_shape) == 1 else len(b_shape) - 2
    inner_b = b_shape[axis_b]
    if inner_a != inner_b:
        return ValueError(
            f"matmul: shapes {a_shape} and {b_shape} not aligned: {inner_a} "
            f"(dim {len(a_shape) - 1}) != {inner_b} (dim {axis_b})"
        )
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        return ValueError(
            f"matmul: shapes {a_shape} and {b_shape}: batch dimensions {a_shape[:-2]} and "
            f"{b_shape[:-2]} cannot be broadcast together"
        )
    return None


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules; ``d/da = dZ b^T``, ``d/db = a^T dZ``.

    Raises
    ------
    ValueError
        Naming both shapes when the inner dimensions or batch dimensions do not match.
    """
    a, b = as_tensor(a), as_tensor(b)
    a_data, b_data = a.data, b.data
    if a_data.ndim == 0 or b_data.ndim == 0:
        raise _matmul_error(a_data.shape, b_data.shape)
    try:
        data = a_data @ b_data
    except (ValueError, TypeError, RuntimeError) as failure:
        error = mixed_device_error("matmul", a_data, b_data) or _matmul_error(
            a_data.shape, b_data.shape
        )
        if error is None:
            raise  # the shapes fit: the array library's own error says what went wrong
        raise error from failure
    if not isinstance(data, np.ndarray) and (type(a_data) is np.ndarray or not foreign(a_data)):
        data = np.asarray(data)
    return record_binary(MATMUL, data, a, b)


def dot(a: Any, b: Any) -> Tensor:
    """``np.dot``: a scalar operand multiplies; 1-D and 2-D operands take the matrix product;
    N-d operands sum over the last axis of ``a`` and the second-to-last of ``b`` (the only one
    of a 1-D ``b``): ``dot(a, b)[i, j, k] = sum_m a[i, m] b[j, m, k]``, a ``tensordot``.

    Raises
    ------
    ValueError
        For shapes that do not align, naming both and the contracted dimensions.
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        return mul(a, b)
    axis_b = max(b.data.ndim - 2, 0)
    if a.data.shape[-1] != b.data.shape[axis_b]:
        raise ValueError(
            f"dot: shapes {a.shape} and {b.shape} not aligned: {a.data.shape[-1]} "
            f"(dim {a.data.ndim - 1}) != {b.data.shape[axis_b]} (dim {axis_b})"
        )
    if a.data.ndim <= 2 and b.data.ndim <= 2:
        return matmul(a, b)
    # np.dot's N-d rule is not matmul's batching: every axis of a is paired with every other
    # axis of b, in that order, which is exactly tensordot's output layout.
    return tensordot(a, b, axes=([a.data.ndim - 1], [axis_b]))


# -- einsum and the products built on it --------------------------------------------------------
_LABELS = string.ascii_letters


class EinsumSpec(NamedTuple):
    """An einsum in explicit form with one letter per axis: no ellipsis, no broadcasting.

    ``inputs[k]`` labels operand ``k``'s axes (a letter may repeat: ``'ii'``), ``output`` the
    result's; ``optimize`` is passed to ``np.einsum``.
    """

    inputs: tuple[str, ...]
    output: str
    optimize: Any

    @property
    def subscripts(self) -> str:
        return ",".join(self.inputs) + "->" + self.output


def _einsum_error(message: str, shapes: Sequence[tuple]) -> ValueError:
    listed = ", ".join(str(tuple(s)) for s in shapes)
    return ValueError(f"einsum: {message} (operand shapes {listed})")


def _interleaved_subscripts(arguments: Sequence[Any]) -> tuple[str, list]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` written as ``'ab,bc->ac'`` plus the operands."""

    def letters(sublist: Any) -> str:
        parts = []
        for label in sublist:
            if label is Ellipsis:
                parts.append("...")
            elif isinstance(label, (int, np.integer)) and 0 <= label < len(_LABELS):
                parts.append(_LABELS[int(label)])
            else:
                raise ValueError(f"einsum: subscript {label!r} must be an int in [0, 52)")
        return "".join(parts)

    operands = list(arguments[0::2][: len(arguments) // 2])
    terms = [letters(s) for s in arguments[1::2][: len(operands)]]
    subscripts = ",".join(terms)
    if len(arguments) % 2:
        subscripts += "->" + letters(arguments[-1])
    return subscripts, operands


def _parse_einsum(subscripts: str, shapes: Sequence[tuple]) -> tuple[list[str], str]:
    """Explicit labels for every operand axis and the output, with ``...`` given letters."""
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise _einsum_error(f"subscripts {subscripts!r} have more than one '->'", shapes)
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _einsum_error(
            f"subscripts {subscripts!r} name {len(terms)} operands but {len(shapes)} were given",
            shapes,
        )
    for term in terms + [rhs]:
        rest = term.replace("...", "", 1)
        if any(c not in _LABELS for c in rest):
            raise _einsum_error(
                f"subscripts {subscripts!r}: labels must be letters, with at most one '...' "
                f"per term",
                shapes,
            )
    used = set(text) & set(_LABELS)
    free = [c for c in _LABELS if c not in used]
    ellipsis_ndims = []
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if "..." in term:
            if named > len(shape):
                raise _einsum_error(f"term {term!r} names more axes than its operand has", shapes)
            ellipsis_ndims.append(len(shape) - named)
        else:
            if named != len(shape):
                raise _einsum_error(
                    f"term {term!r} names {named} axes for an operand of {len(shape)} dimensions",
                    shapes,
                )
            ellipsis_ndims.append(0)
    broadcast = "".join(free[: max(ellipsis_ndims, default=0)])
    inputs = [
        term.replace("...", broadcast[len(broadcast) - n :] if n else "")
        for term, n in zip(terms, ellipsis_ndims)
    ]
    if arrow:
        if "..." not in rhs and broadcast:
            raise _einsum_error(
                f"subscripts {subscripts!r}: the inputs' '...' covers {len(broadcast)} axes but "
                f"the output has no '...' to put them in",
                shapes,
            )
        output = rhs.replace("...", broadcast)
        if len(set(output)) != len(output):
            raise _einsum_error(f"output {rhs!r} repeats a label", shapes)
        missing = set(output) - set("".join(inputs))
        if missing:
            raise _einsum_error(
                f"output label(s) {sorted(missing)} do not appear in the inputs", shapes
            )
    else:
        counts = {}
        for label in "".join(terms).replace(".", ""):
            counts[label] = counts.get(label, 0) + 1
        output = broadcast + "".join(sorted(c for c, n in counts.items() if n == 1))
    return inputs, output


def _label_sizes(inputs: Sequence[str], shapes: Sequence[tuple]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for labels, shape in zip(inputs, shapes):
        for label, size in zip(labels, shape):
            known = sizes.get(label, 1)
            if size != known and 1 not in (size, known):
                raise _einsum_error(
                    f"label {label!r} has sizes {known} and {size}, which do not broadcast",
                    shapes,
                )
            sizes[label] = max(known, size) if size and known else 0
    return sizes


def _einsum_operand_grad(g: Any, inputs: Sequence[Any], spec: EinsumSpec, k: int) -> Any:
    """``dX_k``: the einsum of ``dY`` with every other operand, back onto ``X_k``'s labels.

    A label only ``X_k`` has (summed away inside it) gets a ones vector; a repeated label
    (``'ii'``) puts the result on the diagonal through identity matrices. Written with
    ``np.einsum`` on ``dY`` so it runs on Tensors too (``create_graph``).
    """
    labels = spec.inputs[k]
    shape = inputs[k].shape
    size = dict(zip(labels, shape))
    unique = "".join(dict.fromkeys(labels))
    terms, operands = [spec.output], [g]
    for j, (other, operand) in enumerate(zip(spec.inputs, inputs)):
        if j != k:
            terms.append(other)
            operands.append(operand)
    available = set("".join(terms))
    for label in unique:
        if label not in available:
            terms.append(label)
            operands.append(np.ones(size[label], dtype=g.dtype))
    optimize = spec.optimize or len(operands) > 2
    grad = xnp.einsum(",".join(terms) + "->" + unique, *operands, optimize=optimize)
    if len(unique) == len(labels):
        return grad
    used = set("".join(spec.inputs) + spec.output)
    free = iter(c for c in _LABELS if c not in used)
    terms, operands, result, seen = [unique], [grad], [], set()
    for label in labels:
        if label in seen:
            new = next(free)
            terms.append(label + new)
            operands.append(np.eye(size[label], dtype=g.dtype))
            result.append(new)
        else:
            seen.add(label)
            result.append(label)
    return xnp.einsum(",".join(terms) + "->" + "".join(result), *operands)


def _array_result(result: Any) -> Any:
    """NumPy's 0-d results come back as scalars: make them arrays (a CuPy result stays)."""
    return np.asarray(result) if isinstance(result, np.generic) else result


def _einsum_vjp(g, out, inputs, spec, needs):
    return tuple(
        _einsum_operand_grad(g, inputs, spec, k) if need else None for k, need in enumerate(needs)
    )


EINSUM = Op(
    "einsum",
    lambda *arrays: _array_result(
        xnp.einsum(arrays[-1].subscripts, *arrays[:-1], optimize=arrays[-1].optimize)
    ),
    _einsum_vjp,
    rule="dX_k = einsum(dY, X_j for j != k -> labels of X_k)",
)


def einsum(subscripts: Any, *operands: Any, optimize: Any = False, **kwargs: Any) -> Tensor:
    """Einstein summation, as ``np.einsum``: ``einsum('ij,jk->ik', W, A)`` is ``W @ A``.

    Any subscripts NumPy takes: implicit and explicit output, ``...`` (broadcast), repeated
    labels (``'ii->i'`` is the diagonal, ``'ii'`` the trace), any number of operands, and the
    interleaved form ``einsum(a, [0, 1], b, [1, 2])``. The gradient of operand ``k`` is the
    einsum of ``dY`` with the other operands onto ``k``'s labels (``'ij,jk->ik'`` gives
    ``dW = einsum('ik,jk->ij', dZ, A) = dZ A^T``, the course's rule).

    Parameters
    ----------
    subscripts : str
        The labels, ``'ij,jk->ik'``.
    *operands : Tensor or array_like
    optimize : bool or str
        Passed to ``np.einsum`` (contraction order for three or more operands).

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        Naming the subscripts and every operand shape when they disagree.
    """
    defaults = {"out": None, "dtype": None, "order": "K", "casting": "safe"}
    for key, value in kwargs.items():
        if key not in defaults or value != defaults[key]:
            raise TypeError(f"np.einsum on a Tensor: argument {key}={value!r} is not supported")
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved_subscripts((subscripts,) + operands)
    tensors = [as_tensor(operand) for operand in operands]
    shapes = [t.data.shape for t in tensors]
    inputs, output = _parse_einsum(subscripts, shapes)
    sizes = _label_sizes(inputs, shapes)
    # An axis of length 1 broadcast against a longer one is reshaped away first, so the
    # recorded einsum never broadcasts and each operand's gradient keeps its shape.
    for k, (labels, tensor) in enumerate(zip(inputs, tensors)):
        keep = [size == sizes[label] for label, size in zip(labels, tensor.data.shape)]
        if not all(keep):
            inputs[k] = "".join(label for label, kept in zip(labels, keep) if kept)
            tensors[k] = reshape(
                tensor, tuple(s for s, kept in zip(tensor.data.shape, keep) if kept)
            )
    spec = EinsumSpec(tuple(inputs), output, optimize)
    data = EINSUM.forward(*[t.data for t in tensors], spec)
    return record(EINSUM, data, tuple(tensors), spec)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum of products over ``axes``, as ``np.tensordot`` (an einsum, so its gradient is one).

    Parameters
    ----------
    a, b : Tensor or array_like
    axes : int or (sequence, sequence)
        ``N``: the last ``N`` axes of ``a`` with the first ``N`` of ``b``; a pair lists the
        axes of ``a`` and of ``b`` to contract, in matching order.

    Returns
    -------
    Tensor
        ``a``'s free axes, then ``b``'s.

    Raises
    ------
    ValueError
        Naming both shapes and the axes when the contracted lengths differ.
    """
    a, b = as_tensor(a), as_tensor(b)
    if isinstance(axes, (int, np.integer)):
        count = int(axes)
        if count < 0 or count > min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={count} out of range for shapes {a.shape}, {b.shape}"
            )
        axes_a, axes_b = list(range(a.ndim - count, a.ndim)), list(range(count))
    else:
        try:
            axes_a, axes_b = axes
        except (TypeError, ValueError):
            raise ValueError(f"tensordot: axes must be an int or a pair, got {axes!r}") from None
        axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
        if len(axes_a) != len(axes_b):
            raise ValueError(
                f"tensordot: axes {axes!r} list {len(axes_a)} and {len(axes_b)} axes; must pair"
            )
    axes_a = [normalize_axes("tensordot", axis, a.ndim)[0] for axis in axes_a]
    axes_b = [normalize_axes("tensordot", axis, b.ndim)[0] for axis in axes_b]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: shapes {a.shape} and {b.shape} do not match on the contracted axes "
                f"{axes_a} and {axes_b}: {a.shape[i]} (axis {i}) != {b.shape[j]} (axis {j})"
            )
    labels_a = list(_LABELS[: a.ndim])
    labels_b = list(_LABELS[a.ndim : a.ndim + b.ndim])
    for i, j in zip(axes_a, axes_b):
        labels_b[j] = labels_a[i]
    output = [labels_a[i] for i in range(a.ndim) if i not in axes_a]
    output += [labels_b[j] for j in range(b.ndim) if j not in axes_b]
    subscripts = "".join(labels_a) + "," + "".join(labels_b) + "->" + "".join(output)
    return einsum(subscripts, a, b, optimize=True)


def inner(a: Any, b: Any) -> Tensor:
    """``np.inner``: sum over the last axes, ``out[i.., j..] = sum_k a[i.., k] b[j.., k]``."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"inner: shapes {a.shape} and {b.shape}: last dimensions {a.shape[-1]} and "
            f"{b.shape[-1]} differ"
        )
    return tensordot(a, b, ([-1], [-1]))


def outer(a: Any, b: Any) -> Tensor:
    """``np.outer``: ``out[i, j] = a.ravel()[i] * b.ravel()[j]``."""
    a, b = as_tensor(a), as_tensor(b)
    return einsum("i,j->ij", flatten(a), flatten(b))


def kron(a: Any, b: Any) -> Tensor:
    """Kronecker product, as ``np.kron``: block ``(i, j)`` is ``a[i, j] * b``.

    Written as a broadcast product of interleaved axes reshaped flat, so its gradient is
    the ``mul`` and ``reshape`` rules: ``da[i, j] = sum(dY block (i, j) * b)``.
    """
    a, b = as_tensor(a), as_tensor(b)
    ndim = max(a.ndim, b.ndim)
    shape_a = (1,) * (ndim - a.ndim) + a.shape
    shape_b = (1,) * (ndim - b.ndim) + b.shape
    spread_a = reshape(a, tuple(s for size in shape_a for s in (size, 1)))
    spread_b = reshape(b, tuple(s for size in shape_b for s in (1, size)))
    return reshape(mul(spread_a, spread_b), tuple(x * y for x, y in zip(shape_a, shape_b)))


def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> Tensor:
    """Cross product of 3-vectors (or 2-vectors, as ``np.cross``) along the given axes.

    ``c = (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)``; two 2-vectors give the scalar
    ``a0 b1 - a1 b0``. Written with ``mul``/``sub`` on slices, so ``dA = b x dC`` falls out.

    Raises
    ------
    ValueError
        Naming both shapes when the vector axes are not of length 2 or 3.
    """
    a, b = as_tensor(a), as_tensor(b)
    if axis is not None:
        axisa = axisb = axisc = axis
    try:
        a = moveaxis(a, axisa, -1)
        b = moveaxis(b, axisb, -1)
    except ValueError as error:
        raise ValueError(f"cross: {error} (shapes {a.shape} and {b.shape})") from None
    length_a, length_b = a.shape[-1], b.shape[-1]
    if length_a not in (2, 3) or length_b not in (2, 3):
        raise ValueError(
            f"cross: incompatible dimensions for cross product: the vector axes have lengths "
            f"{length_a} and {length_b} (must be 2 or 3)"
        )
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if length_a == 2 and length_b == 2:
        return z
    if length_a == 3 and length_b == 3:
        a2, b2 = a[..., 2], b[..., 2]
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif length_a == 2:  # a2 = 0
        b2 = b[..., 2]
        x, y = a1 * b2, -(a0 * b2)
    else:  # b2 = 0
        a2 = a[..., 2]
        x, y = -(a2 * b1), a2 * b0
    result = stack([x, y, z], axis=-1)
    axisc = normalize_axes("cross", axisc, result.ndim)[0]
    return moveaxis(result, -1, axisc)


# -- diagonals and triangles -------------------------------------------------------------------
class _DiagonalAxes(NamedTuple):
    shape: tuple  # the full array's shape
    offset: int
    axis1: int
    axis2: int


def _embed_diagonal_forward(g: Any, where: _DiagonalAxes) -> Any:
    if not is_numpy(g):
        return _embed_diagonal_standard(namespace(g), g, where)
    full = np.zeros(where.shape, dtype=g.dtype)
    view = np.moveaxis(full, (where.axis1, where.axis2), (-2, -1))
    count = g.shape[-1]
    rows = np.arange(count) + max(-where.offset, 0)
    columns = np.arange(count) + max(where.offset, 0)
    view[..., rows, columns] = g
    return full


def _embed_diagonal_standard(xp: Any, g: Any, where: _DiagonalAxes) -> Any:
    """The embedding without a writable diagonal view (the standard has none): one-hot matrices
    place entry ``k`` at row ``k + max(-offset, 0)`` and column ``k + max(offset, 0)``,
    ``(R * g) @ C`` in the planes' last two axes, which then move back to axis1 and axis2."""
    rows, columns = where.shape[where.axis1], where.shape[where.axis2]
    count = g.shape[-1]
    device = _backend.native_device(g)
    picked = xp.reshape(xp.arange(count, device=device), (1, count))
    row_hot = xp.reshape(xp.arange(rows, device=device), (rows, 1)) == picked + max(
        -where.offset, 0
    )
    column_hot = xp.reshape(xp.arange(columns, device=device), (1, columns)) == xp.reshape(
        picked + max(where.offset, 0), (count, 1)
    )
    placed = xp.astype(row_hot, g.dtype) * xp.expand_dims(g, axis=-2)
    planes = xp.matmul(placed, xp.astype(column_hot, g.dtype))
    return xp.moveaxis(planes, (-2, -1), (where.axis1, where.axis2))


def _diagonal_forward(x: Any, where: _DiagonalAxes) -> Any:
    if is_numpy(x):
        return np.diagonal(x, where.offset, where.axis1, where.axis2).copy()
    xp = namespace(x)
    if isinstance(xp, _backend.NumPyLike):  # CuPy: NumPy's diagonal
        return xp.diagonal(x, where.offset, where.axis1, where.axis2)
    planes = xp.moveaxis(x, (where.axis1, where.axis2), (-2, -1))
    return xp.linalg.diagonal(planes, offset=where.offset)


def _diagonal_of(g: Any, where: _DiagonalAxes) -> Any:
    if isinstance(g, Tensor):  # create_graph: the recorded op
        return np.diagonal(g, where.offset, where.axis1, where.axis2)
    return _diagonal_forward(g, where)


DIAGONAL_BACKWARD = Op(
    "diagonal_backward",
    _embed_diagonal_forward,
    lambda g, out, inputs, where, needs: (_diagonal_of(g, where),),
    rule="dG = diagonal(dY, offset, axis1, axis2)",
)


def _embed_diagonal(g: Any, where: _DiagonalAxes) -> Any:
    """Zeros shaped ``where.shape`` with ``g`` on the diagonal (the diagonal's own vjp)."""
    if isinstance(g, Tensor):
        return record(DIAGONAL_BACKWARD, _embed_diagonal_forward(g.data, where), (g,), where)
    return _embed_diagonal_forward(g, where)


DIAGONAL = Op(
    "diagonal",
    _diagonal_forward,
    lambda g, out, inputs, where, needs: (_embed_diagonal(g, where),),
    rule="dA = zeros with dY on the diagonal (offset, axis1, axis2)",
)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of the ``(axis1, axis2)`` planes, as ``np.diagonal`` (last axis of result).

    ``dA`` is zeros with ``dY`` written back on that diagonal.
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {x.shape}")
    axis1 = normalize_axes("diagonal", axis1, x.ndim)[0]
    axis2 = normalize_axes("diagonal", axis2, x.ndim)[0]
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({axis1})")
    where = _DiagonalAxes(x.shape, int(offset), axis1, axis2)
    return record(DIAGONAL, DIAGONAL.forward(x.data, where), (x,), where)


def trace(
    x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
) -> Tensor:
    """Sum of the diagonal, as ``np.trace``; ``dA = dY I`` (on the offset diagonal)."""
    if dtype is not None or out is not None:
        raise TypeError("np.trace on a Tensor: dtype= and out= are not supported")
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(v: Any, k: int = 0) -> Tensor:
    """``np.diag``: a 1-D ``v`` builds the matrix with ``v`` on diagonal ``k``; 2-D extracts it."""
    v = as_tensor(v)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    size = v.shape[0] + abs(int(k))
    where = _DiagonalAxes((size, size), int(k), 0, 1)
    return record(DIAGONAL_BACKWARD, _embed_diagonal_forward(v.data, where), (v,), where)


TRIL = Op(
    "tril",
    lambda x, k: xnp.tril(x, k=k),
    lambda g, out, inputs, k, needs: (xnp.tril(g, k=k),),
    rule="dA = tril(dY, k)",
)
TRIU = Op(
    "triu",
    lambda x, k: xnp.triu(x, k=k),
    lambda g, out, inputs, k, needs: (xnp.triu(g, k=k),),
    rule="dA = triu(dY, k)",
)


def _triangle(op: Op, x: Any, k: int) -> Tensor:
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError(f"{op.name}: needs at least 1 dimension, got a 0-d tensor")
    if x.ndim == 1:  # NumPy broadcasts a vector to the square matrix first
        x = broadcast_to(x, (x.shape[0],) * 2)
    return record(op, op.forward(x.data, int(k)), (x,), int(k))


def tril(x: Any, k: int = 0) -> Tensor:
    """Lower triangle (on and below diagonal ``k``) of the last two axes, as ``np.tril``."""
    return _triangle(TRIL, x, k)


def triu(x: Any, k: int = 0) -> Tensor:
    """Upper triangle (on and above diagonal ``k``) of the last two axes, as ``np.triu``."""
    return _triangle(TRIU, x, k)


# -- np.linalg ---------------------------------------------------------------------------------
LinAlgError = np.linalg.LinAlgError


def _mT(x: Any) -> Any:  # noqa: N802 - NumPy's name
    """Swap the last two axes (arrays of any library, and Tensors through dispatch)."""
    return _swap_last(x)


def _square(name: str, x: Tensor) -> None:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise LinAlgError(
            f"np.linalg.{name}: expected square matrices in the last two axes, got shape {x.shape}"
        )


def _numpy_linalg(name: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``np.linalg.<name>`` on arrays, re-raising its errors under its full name."""
    try:
        return function(*args, **kwargs)
    except LinAlgError as error:
        shapes = ", ".join(str(tuple(a.shape)) for a in args if hasattr(a, "shape"))
        raise LinAlgError(f"np.linalg.{name}: {error} (shape {shapes})") from None


def _eye_like(x: Any, size: int) -> Any:
    """The identity in ``x``'s dtype, on ``x``'s device (``x`` an array or a Tensor)."""
    data = x.data if isinstance(x, Tensor) else x
    if is_numpy(data):
        return np.eye(size, dtype=x.dtype)
    return namespace(data).eye(size, dtype=data.dtype, device=_backend.native_device(data))


def _off_diagonal_reciprocal(name: str, values: Any, grad_block: Any) -> Any:
    """``F[i, j] = 1 / (values[j] - values[i])`` off the diagonal, 0 on it.

    Raises where two values tie and the gradient needs ``F`` there: the gradient of the
    vectors is then undefined (only gauge-invariant uses of them have one).
    """
    eye = _eye_like(values, values.shape[-1])
    gaps = values[..., None, :] - values[..., :, None]
    gap_values = gaps.data if isinstance(gaps, Tensor) else gaps
    block_values = grad_block.data if isinstance(grad_block, Tensor) else grad_block
    equal = gap_values == 0  # the diagonal, and ties
    if xnp.any(equal & (eye == 0) & (block_values != 0)):
        raise LinAlgError(
            f"np.linalg.{name}: the gradient of the vectors is undefined where two values are "
            f"equal; use a loss that depends on them only through their span (gauge invariant), "
            f"or perturb the input"
        )
    # Where values tie but the gradient block is 0 there, the term is 0 (not 0 * inf).
    if is_numpy(gap_values):
        return (~equal) / (gaps + equal)
    ties = _backend.astype(equal, gap_values.dtype)  # the standard adds no bools to floats
    return (1.0 - ties) / (gaps + ties)


def _pack(arrays: Sequence[Any], batch: tuple) -> Any:
    """Several outputs of one op flattened into one array ``(*batch, total)``."""
    return _join("concat", [_backend.reshape(a, batch + (-1,)) for a in arrays], -1)


def _unpack(packed: Any, shapes: Sequence[tuple]) -> list:
    """The pieces of :func:`_pack`, reshaped (arrays, and Tensors: each piece is a slice)."""
    pieces, start = [], 0
    for shape in shapes:
        batch = shape[: packed.ndim - 1]
        size = int(np.prod(shape[len(batch) :], dtype=int))
        pieces.append(_backend.reshape(packed[..., start : start + size], shape))
        start += size
    return pieces


# inv ---------------------------------------------------------------------------------------
INV = Op(
    "inv",
    lambda x, _: _numpy_linalg("inv", xlinalg.inv, x),
    lambda g, out, inputs, extra, needs: (-(_mT(out) @ g @ _mT(out)),),
    saves_out=True,
    rule="dA = -A^-T dY A^-T",
)


def inv(a: Any) -> Tensor:
    """Matrix inverse (batched), as ``np.linalg.inv``; ``dA = -A^{-T} dY A^{-T}``.

    Raises
    ------
    LinAlgError
        ``np.linalg.inv: ...`` for non-square or singular matrices, naming the shape.
    """
    a = as_tensor(a)
    _square("inv", a)
    return record(INV, INV.forward(a.data, None), (a,))


# det, slogdet ----------------------------------------------------------------------------------
def _cofactors(a: Any) -> Any:
    """``det(A) A^{-T}`` for any ``A`` (singular too), from the SVD: ``U diag(prod_{j!=i} s_j) V^T``
    times ``det(U) det(V)``."""
    u, s, vh = xlinalg.svd(a)
    if is_numpy(a):
        others = np.broadcast_to(s[..., None, :], s.shape + s.shape[-1:]).copy()
        diagonal_view = np.einsum("...ii->...i", others)
        diagonal_view[...] = 1
    else:  # the standard has no writable diagonal view: ones where the identity is
        xp = namespace(a)
        diagonal = _eye_like(s, s.shape[-1]) == 1
        others = xp.where(diagonal, xp.ones_like(s[..., None, :]), s[..., None, :])
    products = xnp.prod(others, axis=-1)
    sign = xlinalg.det(u) * xlinalg.det(vh)
    return sign[..., None, None] * (u * products[..., None, :]) @ vh


def _det_vjp(g, out, inputs, extra, needs):
    (a,) = inputs
    values = out.data if isinstance(out, Tensor) else out
    scale = (g * out)[..., None, None]
    if xnp.all(values != 0):
        return (scale * _mT(xlinalg.inv(a)),)
    if isinstance(a, Tensor):
        raise LinAlgError(
            "np.linalg.det: the second derivative at a singular matrix is not supported"
        )
    return (g[..., None, None] * _cofactors(a),)


DET = Op(
    "det",
    lambda x, _: _array_result(xlinalg.det(x)),
    _det_vjp,
    saves_out=True,
    rule="dA = dY det(A) A^-T (the cofactor matrix, also at singular A)",
)


def det(a: Any) -> Tensor:
    """Determinant (batched), as ``np.linalg.det``; ``dA = dY det(A) A^{-T}``.

    At a singular matrix the gradient is the cofactor matrix, computed from the SVD.
    """
    a = as_tensor(a)
    _square("det", a)
    return record(DET, DET.forward(a.data, None), (a,))


class SlogdetResult(NamedTuple):
    """``sign`` (outside the graph: piecewise constant) and ``logabsdet`` of ``slogdet``."""

    sign: Tensor
    logabsdet: Tensor


LOGABSDET = Op(
    "slogdet",
    lambda x, _: _array_result(xlinalg.slogdet(x)[1]),
    lambda g, out, inputs, extra, needs: (g[..., None, None] * _mT(xlinalg.inv(inputs[0])),),
    rule="dA = dY A^-T (for logabsdet)",
)


def slogdet(a: Any) -> SlogdetResult:
    """Sign and ``log |det A|``, as ``np.linalg.slogdet``; ``dA = dlogabsdet A^{-T}``."""
    a = as_tensor(a)
    _square("slogdet", a)
    sign, logabsdet = xlinalg.slogdet(a.data)
    return SlogdetResult(
        _new_tensor(_array_result(sign)), record(LOGABSDET, _array_result(logabsdet), (a,))
    )


# solve -----------------------------------------------------------------------------------------
def _solve_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    grad_b = xlinalg.solve(_mT(a), g)
    return (
        unbroadcast(-(grad_b @ _mT(out)), a.shape) if needs[0] else None,
        unbroadcast(grad_b, b.shape) if needs[1] else None,
    )


SOLVE = Op(
    "solve",
    lambda a, b, _: _numpy_linalg("solve", xlinalg.solve, a, b),
    _solve_vjp,
    saves_out=True,
    rule="dB = solve(A^T, dY); dA = -dB X^T",
)


def solve(a: Any, b: Any) -> Tensor:
    """``X`` with ``A X = B`` (batched, broadcast), as ``np.linalg.solve`` in NumPy 2.

    ``b`` of shape ``(M,)`` is one vector; otherwise ``(..., M, K)``. ``dB = A^{-T} dX`` and
    ``dA = -dB X^T``.

    Raises
    ------
    LinAlgError
        ``np.linalg.solve: ...`` for non-square or singular ``a``.
    ValueError
        Naming both shapes when they do not match.
    """
    a, b = as_tensor(a), as_tensor(b)
    _square("solve", a)
    vector = b.ndim == 1
    if vector:
        b = reshape(b, b.shape + (1,))
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"np.linalg.solve: shapes {a.shape} and {b.shape if not vector else b.shape[:1]} do "
            f"not match: b needs {a.shape[-1]} rows"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"np.linalg.solve: batch shapes of {a.shape} and {b.shape} do not broadcast"
        ) from None
    x = record(SOLVE, SOLVE.forward(a.data, b.data, None), (a, b))
    return reshape(x, x.shape[:-1]) if vector else x


# cholesky ----------------------------------------------------------------------------------
def _cholesky_vjp(g, out, inputs, extra, needs):
    lower = out
    size = lower.shape[-1]
    phi = xnp.tril(_mT(lower) @ g)
    phi = phi - 0.5 * phi * _eye_like(lower, size)  # halve the diagonal
    inverse = xlinalg.inv(lower)
    grad = _mT(inverse) @ phi @ inverse
    return (0.5 * (grad + _mT(grad)),)


CHOLESKY = Op(
    "cholesky",
    lambda x, _: _numpy_linalg("cholesky", xlinalg.cholesky, x),
    _cholesky_vjp,
    saves_out=True,
    rule="dA = sym(L^-T Phi(L^T dL) L^-1), Phi = lower triangle with half diagonal",
)


def cholesky(a: Any, upper: bool = False) -> Tensor:
    """Cholesky factor of a symmetric positive-definite ``A = L L^T``, as ``np.linalg.cholesky``.

    The gradient treats ``A`` as symmetric (as PyTorch does): ``dA`` is symmetric.

    Raises
    ------
    LinAlgError
        ``np.linalg.cholesky: Matrix is not positive definite`` naming the shape.
    """
    a = as_tensor(a)
    _square("cholesky", a)
    lower = record(CHOLESKY, CHOLESKY.forward(a.data, None), (a,))
    return _mT(lower) if upper else lower


# eigh ------------------------------------------------------------------------------------------
class EighResult(NamedTuple):
    """``eigenvalues`` (ascending) and ``eigenvectors`` (columns) of ``np.linalg.eigh``."""

    eigenvalues: Tensor
    eigenvectors: Tensor


def _eigh_forward(x: np.ndarray, uplo: str) -> np.ndarray:
    values, vectors = _numpy_linalg("eigh", xlinalg.eigh, x, UPLO=uplo)
    return _pack([values, vectors], x.shape[:-2])


def _eigh_vjp(g, out, inputs, uplo, needs):
    shape = inputs[0].shape
    values, vectors = _unpack(out, [shape[:-1], shape])
    grad_values, grad_vectors = _unpack(g, [shape[:-1], shape])
    projected = _mT(vectors) @ grad_vectors
    inner = projected * _off_diagonal_reciprocal("eigh", values, projected)
    inner = inner + grad_values[..., None, :] * _eye_like(values, shape[-1])
    symmetric = vectors @ inner @ _mT(vectors)
    # NumPy's eigh reads only one triangle (UPLO) of A: an entry there stands for itself and its
    # mirror, so it gets both shares; the other triangle does not change the result (gradient
    # 0). This is the derivative of the function NumPy computes, for any A (HIPS autograd's).
    both = symmetric + _mT(symmetric)
    triangle = xnp.tril(both, k=-1) if uplo == "L" else xnp.triu(both, k=1)
    return (triangle + symmetric * _eye_like(values, shape[-1]),)


EIGH = Op(
    "eigh",
    _eigh_forward,
    _eigh_vjp,
    saves_out=True,
    rule="dA = tril(G + G^T, -1) + diag(G) (UPLO='L'; triu for 'U'), "
    "G = V (diag(dw) + F * (V^T dV)) V^T, F_ij = 1/(w_j - w_i)",
)


def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803 - NumPy's name
    """Eigenvalues and eigenvectors of symmetric matrices, as ``np.linalg.eigh``.

    With ``G = V (diag(dw) + F * (V^T dV)) V^T`` and ``F_ij = 1 / (w_j - w_i)``, the gradient
    is ``dA = tril(G + G^T, -1) + diag(G)`` (``triu`` for ``UPLO='U'``): only that triangle
    is read, so it carries the mirror's share and the other triangle gets 0, as in HIPS
    autograd. For a symmetrized input (``eigh((X + X^T) / 2)``) this equals PyTorch's ``G``
    after the chain rule. The eigenvectors' part exists only where the eigenvalues are
    distinct (raises otherwise).
    """
    a = as_tensor(a)
    _square("eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"np.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = record(EIGH, _eigh_forward(a.data, UPLO), (a,), UPLO)
    values, vectors = _unpack(packed, [a.shape[:-1], a.shape])
    return EighResult(values, vectors)


def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:  # noqa: N803 - NumPy's name
    """Eigenvalues of symmetric matrices, as ``np.linalg.eigvalsh``; ``dA = V diag(dw) V^T``."""
    return eigh(a, UPLO).eigenvalues


# svd -------------------------------------------------------------------------------------------
class SVDResult(NamedTuple):
    """``U``, ``S`` (descending) and ``Vh`` of ``np.linalg.svd``: ``A = U diag(S) Vh``."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def _svd_shapes(shape: tuple, full: bool) -> list[tuple]:
    rows, columns = shape[-2:]
    k = min(rows, columns)
    batch = shape[:-2]
    left = rows if full else k
    right = columns if full else k
    return [batch + (rows, left), batch + (k,), batch + (right, columns)]


class _SVDOptions(NamedTuple):
    full: bool
    hermitian: bool


def _svd_forward(x: np.ndarray, options: _SVDOptions) -> np.ndarray:
    # Any valid SVD (hermitian=True's signs included) satisfies the gradient rule below.
    u, s, vh = _numpy_linalg(
        "svd", xlinalg.svd, x, full_matrices=options.full, hermitian=options.hermitian
    )
    return _pack([u, s, vh], x.shape[:-2])


def _is_zero(x: Any) -> bool:
    return not xnp.any(x.data if isinstance(x, Tensor) else x)


def _svd_vjp(g, out, inputs, options, needs):
    full = options.full
    shape = inputs[0].shape
    rows, columns = shape[-2:]
    k = min(rows, columns)
    shapes = _svd_shapes(shape, full)
    u, s, vh = _unpack(out, shapes)
    grad_u, grad_s, grad_vh = _unpack(g, shapes)
    if full and (rows != k or columns != k):
        # The extra columns of a full U (or rows of Vh) are not functions of A: any
        # orthonormal completion will do. Only a loss that ignores them has a gradient.
        extra_u, extra_vh = grad_u[..., k:], grad_vh[..., k:, :]
        if not (_is_zero(extra_u) and _is_zero(extra_vh)):
            raise LinAlgError(
                "np.linalg.svd: no gradient through the extra singular vectors of "
                "full_matrices=True for a non-square matrix (they are not unique); use "
                "full_matrices=False"
            )
        u, grad_u = u[..., :k], grad_u[..., :k]
        vh, grad_vh = vh[..., :k, :], grad_vh[..., :k, :]
    eye = _eye_like(s, k)
    grad = grad_s[..., None, :] * eye
    uses_u, uses_v = not _is_zero(grad_u), not _is_zero(grad_vh)
    if uses_u or uses_v:
        v, grad_v = _mT(vh), _mT(grad_vh)
        u_part = _mT(u) @ grad_u
        v_part = vh @ grad_v
        u_skew, v_skew = u_part - _mT(u_part), v_part - _mT(v_part)
        reciprocal = _off_diagonal_reciprocal("svd", s * s, u_skew + v_skew)
        grad = (
            grad + (reciprocal * u_skew) * s[..., None, :] + s[..., :, None] * (reciprocal * v_skew)
        )
        if uses_u and rows > k:
            grad_a_extra = ((grad_u - u @ u_part) / s[..., None, :]) @ vh
        else:
            grad_a_extra = None
        if uses_v and columns > k:
            extra = u @ _mT((grad_v - v @ v_part) / s[..., None, :])
            grad_a_extra = extra if grad_a_extra is None else grad_a_extra + extra
    else:
        grad_a_extra = None
    grad_a = u @ grad @ vh
    return (grad_a if grad_a_extra is None else grad_a + grad_a_extra,)


SVD = Op(
    "svd",
    _svd_forward,
    _svd_vjp,
    saves_out=True,
    rule="dA = U (diag(dS) + F*(U^T dU - dU^T U) S + S F*(V^T dV - dV^T V)) V^T + projections",
)


def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """Singular value decomposition ``A = U diag(S) Vh``, as ``np.linalg.svd``.

    With ``compute_uv=False`` only ``S``, whose gradient is ``dA = U diag(dS) Vh``. The
    vectors' gradient needs distinct singular values (raises otherwise), and nonzero ones for
    a non-square ``A``; through the extra columns of ``full_matrices=True`` there is none.

    Returns
    -------
    SVDResult or Tensor
        ``(U, S, Vh)``, or ``S`` alone when ``compute_uv=False``.
    """
    a = as_tensor(a)
    if a.ndim < 2:
        raise LinAlgError(f"np.linalg.svd: expected at least 2 dimensions, got shape {a.shape}")
    options = _SVDOptions(bool(full_matrices) and compute_uv, bool(hermitian))
    packed = record(SVD, _svd_forward(a.data, options), (a,), options)
    u, s, vh = _unpack(packed, _svd_shapes(a.shape, options.full))
    return SVDResult(u, s, vh) if compute_uv else s


def svdvals(x: Any) -> Tensor:
    """Singular values, as ``np.linalg.svdvals``; ``dA = U diag(dS) Vh``."""
    return svd(x, compute_uv=False)


# qr --------------------------------------------------------------------------------------------
class QRResult(NamedTuple):
    """``Q`` (orthonormal columns) and ``R`` (upper triangular) of ``np.linalg.qr``."""

    Q: Tensor
    R: Tensor


def _qr_shapes(shape: tuple) -> list[tuple]:
    rows, columns = shape[-2:]
    k = min(rows, columns)
    return [shape[:-2] + (rows, k), shape[:-2] + (k, columns)]


def _qr_forward(x: np.ndarray, _: Any) -> np.ndarray:
    q, r = _numpy_linalg("qr", xlinalg.qr, x)
    return _pack([q, r], x.shape[:-2])


def _copy_lower_to_upper(m: Any) -> Any:
    lower = xnp.tril(m, k=-1)
    return lower + _mT(lower) + m * _eye_like(m, m.shape[-1])


def _qr_square_vjp(q: Any, r: Any, grad_q: Any, grad_r: Any) -> Any:
    """``dA = (dQ + Q copyltu(M)) R^{-T}`` with ``M = R dR^T - dQ^T Q`` (``rows >= columns``)."""
    m = r @ _mT(grad_r) - _mT(grad_q) @ q
    b = grad_q + q @ _copy_lower_to_upper(m)
    return _mT(xlinalg.solve(r, _mT(b)))


def _qr_vjp(g, out, inputs, extra, needs):
    shape = inputs[0].shape
    rows, columns = shape[-2:]
    q, r = _unpack(out, _qr_shapes(shape))
    grad_q, grad_r = _unpack(g, _qr_shapes(shape))
    if rows >= columns:
        return (_qr_square_vjp(q, r, grad_q, grad_r),)
    # A = [X | Y] with X = Q U square: Y = Q V gives dY = Q dV, and Q feeds Y too.
    a = inputs[0]
    y = a[..., rows:]
    u, grad_u, grad_v = r[..., :rows], grad_r[..., :rows], grad_r[..., rows:]
    grad_x = _qr_square_vjp(q, u, grad_q + y @ _mT(grad_v), grad_u)
    return (_join("concat", [grad_x, q @ grad_v], -1),)


QR = Op(
    "qr",
    _qr_forward,
    _qr_vjp,
    saves_out=True,
    rule="dA = (dQ + Q copyltu(R dR^T - dQ^T Q)) R^-T (wide A: split A = [X | Y])",
)


def qr(a: Any, mode: str = "reduced") -> Any:
    """Reduced QR decomposition ``A = Q R``, as ``np.linalg.qr`` (``mode='reduced'`` or ``'r'``).

    The gradient (PyTorch's) needs the leading square block of ``A`` to be full rank.

    Raises
    ------
    ValueError
        For ``mode='complete'`` on a tall matrix (its extra columns of ``Q`` are not unique)
        or an unknown mode.
    """
    a = as_tensor(a)
    if a.ndim < 2:
        raise LinAlgError(f"np.linalg.qr: expected at least 2 dimensions, got shape {a.shape}")
    if mode == "complete" and a.shape[-2] > a.shape[-1]:
        raise ValueError(
            f"np.linalg.qr: mode='complete' on a tall matrix {a.shape} has no gradient (its "
            f"extra columns of Q are not unique); use mode='reduced'"
        )
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"np.linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    packed = record(QR, _qr_forward(a.data, None), (a,))
    q, r = _unpack(packed, _qr_shapes(a.shape))
    return r if mode == "r" else QRResult(q, r)


# pinv ------------------------------------------------------------------------------------------
def _pinv_vjp(g, out, inputs, extra, needs):
    (a,) = inputs
    x = out
    rows, columns = a.shape[-2:]
    grad = -(_mT(x) @ g @ _mT(x))
    grad = grad + (_eye_like(x, rows) - a @ x) @ _mT(g) @ x @ _mT(x)
    grad = grad + _mT(x) @ x @ _mT(g) @ (_eye_like(x, columns) - x @ a)
    return (grad,)


PINV = Op(
    "pinv",
    lambda x, options: _numpy_linalg("pinv", xlinalg.pinv, x, **options),
    _pinv_vjp,
    saves_out=True,
    rule="dA = -X^T dY X^T + (I - A X) dY^T X X^T + X^T X dY^T (I - X A), X = pinv(A)",
)


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, **kwargs: Any) -> Tensor:
    """Moore-Penrose pseudo-inverse, as ``np.linalg.pinv``.

    The gradient (Golub and Pereyra's) holds where the rank is constant near ``A``.
    """
    a = as_tensor(a)
    if a.ndim < 2:
        raise LinAlgError(f"np.linalg.pinv: expected at least 2 dimensions, got shape {a.shape}")
    options = {"hermitian": hermitian}
    if rcond is not None:
        options["rcond"] = rcond
    options.update({k: v for k, v in kwargs.items() if v is not np._NoValue})
    return record(PINV, PINV.forward(a.data, options), (a,), options)


# norm ------------------------------------------------------------------------------------------
class _NormAxes(NamedTuple):
    order: float
    axes: tuple | None


def _vector_norm_forward(x: np.ndarray, extra: _NormAxes) -> np.ndarray:
    order, axes = extra
    if order == 2:
        return xnp.sqrt(xnp.sum(x * x, axis=axes, keepdims=True))
    if order == 1:
        return xnp.sum(xnp.abs(x), axis=axes, keepdims=True)
    return xnp.sum(xnp.abs(x) ** order, axis=axes, keepdims=True) ** (1 / order)


def _vector_norm_vjp(g, out, inputs, extra, needs):
    (x,) = inputs
    order = extra.order
    safe = xnp.where(out == 0, 1, out)  # a zero norm has gradient 0, as in PyTorch
    if order == 2:
        return (g * x / safe,)
    if order == 1:
        return (g * xnp.sign(x),)
    # At x_i = 0, 0 ** (p - 1) is inf for p < 1; sign(x_i) = 0 makes that entry's gradient 0
    # (PyTorch's), so take the ratio as 1 there and never form inf * 0.
    ratio = xnp.where(x == 0, 1, xnp.abs(x) / safe)
    grad = g * xnp.sign(x) * ratio ** (order - 1)
    return (xnp.where(out == 0, 0, grad),)


VECTOR_NORM = Op(
    "vector_norm",
    _vector_norm_forward,
    _vector_norm_vjp,
    saves_out=True,
    rule="dx = dY sign(x) (|x| / ||x||_p)^(p-1) (0 where ||x|| = 0)",
)
COUNT_NONZERO = Op(
    "norm0",
    lambda x, extra: xnp.sum(_backend.astype(x != 0, x.dtype), axis=extra.axes, keepdims=True),
    lambda g, out, inputs, extra, needs: (xnp.zeros_like(inputs[0]),),
    rule="dx = 0 (the count of nonzeros is piecewise constant)",
)


def _restore_kept(result: Tensor, shape: tuple, axes: tuple, keepdims: bool) -> Tensor:
    """The reduced result in NumPy's shape: ones at ``axes`` with ``keepdims``, else dropped."""
    if keepdims:
        return reshape(result, tuple(1 if i in axes else n for i, n in enumerate(shape)))
    return reshape(result, tuple(n for i, n in enumerate(shape) if i not in axes))


def _vector_norm(x: Tensor, order: Any, axes: tuple, keepdims: bool) -> Tensor:
    if order is None:
        order = 2
    if isinstance(order, str):
        raise ValueError(f"np.linalg.norm: invalid norm order {order!r} for vectors")
    order = float(order)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if np.isinf(order):
        reduce = _max if order > 0 else _min
        return reduce(_abs(x), axis=axes, keepdims=keepdims)
    extra = _NormAxes(order, axes)
    op = COUNT_NONZERO if order == 0 else VECTOR_NORM
    kept = record(op, op.forward(x.data, extra), (x,), extra)
    return _restore_kept(kept, x.shape, axes, keepdims)


def _matrix_norm(x: Tensor, order: Any, axes: tuple, keepdims: bool) -> Tensor:
    row, column = axes
    if row == column:
        raise ValueError(f"np.linalg.norm: duplicate axes {axes} for a matrix norm")
    if order in (None, "fro", "f"):
        return _vector_norm(x, 2, tuple(sorted(axes)), keepdims)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    planes = moveaxis(x, (row, column), (-2, -1))
    if order == "nuc":
        result = _sum(svd(planes, compute_uv=False), axis=-1)
    elif order in (2, -2):
        values = svd(planes, compute_uv=False)
        result = (_max if order == 2 else _min)(values, axis=-1)
    elif order in (1, -1):
        sums = _sum(_abs(planes), axis=-2)
        result = (_max if order == 1 else _min)(sums, axis=-1)
    elif order in (np.inf, -np.inf):
        sums = _sum(_abs(planes), axis=-1)
        result = (_max if order > 0 else _min)(sums, axis=-1)
    else:
        raise ValueError(f"np.linalg.norm: invalid norm order {order!r} for matrices")
    if keepdims:
        shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        return reshape(result, shape)
    return result


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or matrix norm, as ``np.linalg.norm``.

    Vectors (one axis, or every axis with ``ord=None``): ``ord`` 2 (default), 1, any ``p``,
    ``inf`` (``max |x|``), ``-inf``, 0 (count of nonzeros, gradient 0). Matrices (two axes):
    ``'fro'``, ``'nuc'``, 2 and -2 (largest and smallest singular value), 1, -1, ``inf``,
    ``-inf``. ``d||x||_2 = x / ||x||_2``, taken as 0 at ``x = 0`` (PyTorch's choice).

    Raises
    ------
    ValueError
        ``np.linalg.norm: invalid norm order ...`` or improper axes, naming them.
    """
    x = as_tensor(x)
    if axis is None:
        if ord is None:
            return _vector_norm(x, 2, tuple(range(x.ndim)), keepdims)
        if x.ndim == 1:
            return _vector_norm(x, ord, (0,), keepdims)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        raise ValueError(
            f"np.linalg.norm: improper number of dimensions to norm: shape {x.shape} with "
            f"ord={ord!r} needs axis="
        )
    if isinstance(axis, (int, np.integer)):
        return _vector_norm(x, ord, normalize_axes("np.linalg.norm", axis, x.ndim), keepdims)
    axis = tuple(axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, normalize_axes("np.linalg.norm", axis, x.ndim), keepdims)
    if len(axis) == 2:
        row, column = (normalize_axes("np.linalg.norm", a, x.ndim)[0] for a in axis)
        return _matrix_norm(x, ord, (row, column), keepdims)
    raise ValueError(f"np.linalg.norm: improper number of dimensions to norm: axis {axis!r}")


def vector_norm(x: Any, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Tensor:  # noqa: A002
    """``np.linalg.vector_norm``: a vector norm over ``axis`` (every axis by default)."""
    x = as_tensor(x)
    axes = normalize_axes("np.linalg.vector_norm", axis, x.ndim)
    return _vector_norm(x, ord, tuple(range(x.ndim)) if axes is None else axes, keepdims)


def matrix_norm(x: Any, keepdims: bool = False, ord: Any = "fro") -> Tensor:  # noqa: A002
    """``np.linalg.matrix_norm``: a matrix norm of the last two axes."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"np.linalg.matrix_norm: needs at least 2 dimensions, got {x.shape}")
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)


# -- products and solvers built from the ops above ---------------------------------------------
def vdot(a: Any, b: Any) -> Tensor:
    """``np.vdot`` of real tensors: the dot product of the flattened values."""
    a, b = as_tensor(a), as_tensor(b)
    if a.size != b.size:
        raise ValueError(f"vdot: shapes {a.shape} and {b.shape} have different sizes")
    return einsum("i,i->", flatten(a), flatten(b))


def vecdot(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """``np.linalg.vecdot``: ``sum(x1 * x2, axis)`` with broadcasting (real tensors)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    try:
        product = mul(x1, x2)
    except ValueError:
        raise ValueError(f"vecdot: shapes {x1.shape} and {x2.shape} do not broadcast") from None
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(
            f"vecdot: shapes {x1.shape} and {x2.shape} differ along axis {axis} "
            f"({x1.shape[axis]} != {x2.shape[axis]})"
        )
    return _sum(product, axis=axis)


def matvec(a: Any, v: Any) -> Tensor:
    """``np.matvec``: ``A @ v`` for stacks of matrices and vectors (``'...ij,...j->...i'``)."""
    return einsum("...ij,...j->...i", a, v)


def vecmat(v: Any, a: Any) -> Tensor:
    """``np.vecmat``: ``v @ A`` for stacks of vectors and matrices (``'...j,...ji->...i'``)."""
    return einsum("...j,...ji->...i", v, a)


def matrix_transpose(x: Any) -> Tensor:
    """``np.linalg.matrix_transpose``: swap the last two axes."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return _mT(x)


def multi_dot(arrays: Sequence[Any], *, out: Any = None) -> Tensor:
    """``np.linalg.multi_dot``: the chained product (first and last operand may be 1-D)."""
    if out is not None:
        raise TypeError("np.linalg.multi_dot on a Tensor: out= is not supported")
    tensors = [as_tensor(a) for a in arrays]
    if len(tensors) < 2:
        raise ValueError("np.linalg.multi_dot: expecting at least two arrays")
    if any(t.ndim != 2 for t in tensors[1:-1]) or not (1 <= tensors[0].ndim <= 2):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"np.linalg.multi_dot: the inner arrays must be 2-D (shapes {shapes})")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return result


def matrix_power(a: Any, n: int) -> Tensor:
    """``np.linalg.matrix_power``: ``A^n`` by repeated squaring (``A^{-1}`` first for ``n < 0``;
    ``n = 0`` is the identity, with gradient 0)."""
    a = as_tensor(a)
    _square("matrix_power", a)
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"np.linalg.matrix_power: exponent must be an integer, got {n!r}")
    n = int(n)
    if n == 0:  # in the graph with gradient 0, as PyTorch's
        return mul(a, 0.0) + _eye_like(a, a.shape[-1])
    base = inv(a) if n < 0 else a
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


class LstsqResult(NamedTuple):
    """``x``, ``residuals``, ``rank`` (an int) and ``s`` (singular values) of ``lstsq``."""

    x: Tensor
    residuals: Tensor
    rank: int
    s: Tensor


def lstsq(a: Any, b: Any, rcond: Any = None) -> LstsqResult:
    """Least squares ``min ||A x - b||``, as ``np.linalg.lstsq``, as ``x = pinv(A) b``.

    The rank and the cutoff are NumPy's (singular values below ``rcond * s_max`` count as 0);
    the gradient is ``pinv``'s, so it holds where the rank is constant near ``A``.
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise LinAlgError(
            f"np.linalg.lstsq: a must be 2-D and b 1-D or 2-D with as many rows; got shapes "
            f"{a.shape} and {b.shape}"
        )
    rows, columns = a.shape
    cutoff = np.finfo(np.result_type(a.dtype, np.float32)).eps * max(rows, columns)
    rcond = cutoff if rcond is None else rcond
    if is_numpy(a.data):
        _, _, rank, _ = _numpy_linalg("lstsq", np.linalg.lstsq, a.data, b.data, rcond=rcond)
    else:  # the standard has no lstsq: LAPACK's rank, the singular values above the cutoff
        values = xlinalg.svd(a.data, compute_uv=False)
        rank = int(xnp.sum(_backend.astype(values > float(rcond) * xnp.max(values), np.int64)))
    x = matmul(pinv(a, rcond=rcond), b)
    if rank == columns and rows > columns:
        residual = matmul(a, x) - b
        residuals = _sum(residual * residual, axis=0)
        if b.ndim == 1:
            residuals = reshape(residuals, (1,))
    else:
        empty = _backend.reshape(_eye_like(x, 0), (0,))  # in x's dtype, on x's device
        residuals = _new_tensor(empty)
    return LstsqResult(x, residuals, int(rank), svdvals(a))
