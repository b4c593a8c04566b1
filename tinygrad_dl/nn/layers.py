"""Layers: ``Linear``, ``Sequential``, the activations, ``Flatten``, ``Embedding``, dropout.

``Linear`` is batch-first like PyTorch: a batch ``x`` of shape ``(m, in_features)`` gives
``x W^T + b`` of shape ``(m, out_features)``. Its ``weight`` has shape ``(out_features,
in_features)``, which is exactly the course's ``W^[l]`` of shape ``(n^[l], n^[l-1])``; the course
computes the same numbers in its column layout::

    course (X is (n_x, m)):        Z1 = W1 @ X + b1          # (n^[1], m)
    nn (x = X.T is (m, n_x)):      z1 = layer(x)             # (m, n^[1]) == Z1.T
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..rng import RandomLike, resolve_rng
from ..tensor import Tensor
from . import functional as F
from . import init as initialisers
from .module import Module, Parameter

__all__ = [
    "Dropout",
    "Dropout2d",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "Hardtanh",
    "Identity",
    "LogSoftmax",
    "SiLU",
    "Softmax",
    "Softplus",
    "Unflatten",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
]


class Linear(Module):
    """A fully connected layer ``y = x W^T + b`` (the course's ``Z^[l] = W^[l] A^[l-1] + b^[l]``).

    Parameters
    ----------
    in_features, out_features : int
        ``n^[l-1]`` and ``n^[l]``.
    bias : bool
        Learn a bias ``b`` of shape ``(out_features,)``.
    init : str or callable, optional
        How to draw the weight: ``None``/``"default"`` is PyTorch's default (weight and bias
        uniform in ``+-1/sqrt(in_features)``); ``"course"`` is ``0.01 * randn``; ``"he"``
        (``"kaiming"``), ``"xavier"`` (``"glorot"``), ``"xavier_uniform"``, ``"zeros"``; or a
        function ``f(shape, rng=..., dtype=...)`` from :mod:`tinygrad_dl.nn.init`. Except for
        the default, the bias starts at zero.
    rng : Generator, RandomState, int or None
        Where the initialiser draws from (``None``: NumPy's global state). Pass one generator to
        all layers to draw them in order, as the course does.
    dtype : dtype
        float64 (the course's) by default; float32 for speed.

    Raises
    ------
    ValueError
        For non-positive sizes or an unknown ``init`` name.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Callable[..., np.ndarray] | None = None,
        rng: RandomLike = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Linear: {name} must be a positive int, got {value!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        generator = resolve_rng(rng)
        shape = (self.out_features, self.in_features)
        if init is None or init == "default":
            weight = initialisers.default_uniform(shape, rng=generator, dtype=dtype)
            bias_value = (
                initialisers.default_uniform(
                    (self.out_features,), fan_in=self.in_features, rng=generator, dtype=dtype
                )
                if bias
                else None
            )
        else:
            if isinstance(init, str):
                if init not in initialisers.INITIALISERS:
                    names = ", ".join(repr(k) for k in initialisers.INITIALISERS)
                    raise ValueError(f"Linear: unknown init {init!r}; choose one of {names}")
                init = initialisers.INITIALISERS[init]
            weight = np.asarray(init(shape, rng=generator, dtype=dtype))
            if weight.shape != shape:
                raise ValueError(f"Linear: init returned shape {weight.shape}, expected {shape}")
            bias_value = np.zeros(self.out_features, dtype=dtype) if bias else None
        self.weight = Parameter(weight)
        self.bias = Parameter(bias_value) if bias_value is not None else None

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x))
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): "
                f"input of shape {x.shape} must have {self.in_features} features in its last "
                f"axis (batch-first (m, in_features); for the course's (n_x, m) layout pass X.T)"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Sequential(Module):
    """Modules applied one after the other; they are named ``"0"``, ``"1"``, ... (or by the
    keys of an ``OrderedDict``), so the state-dict keys are PyTorch's ``"0.weight"``.

    Examples
    --------
    >>> from tinygrad_dl import nn
    >>> model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=0))
    >>> list(model.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *modules: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            items = list(modules[0].items())
        else:
            items = [(str(index), module) for index, module in enumerate(modules)]
        for name, module in items:
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: item {name!r} is a {type(module).__name__}, not a Module"
                )
            self.add_module(name, module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Module:
        modules = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(modules[index]))
        try:
            return modules[index][1]
        except IndexError:
            raise IndexError(
                f"Sequential: index {index} out of range for {len(modules)} modules"
            ) from None

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end (named by its position)."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self


class ReLU(Module):
    """``max(0, x)`` element-wise.

    ``inplace`` is accepted for PyTorch's code and ignored: the result is always a new Tensor
    (same values and gradients; an in-place change would clash with the graph's saved arrays).
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """``max(negative_slope x, x)`` element-wise (0.01, the course's slope, by default)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace  # accepted for PyTorch's code; computed out of place (see ReLU)

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Tanh(Module):
    """``tanh(x)`` element-wise (the course's hidden-layer activation)."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """``1 / (1 + e^-x)`` element-wise, stable for any input."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Identity(Module):
    """Returns its input unchanged (any constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Dropout(Module):
    """Inverted dropout: in training mode, zero each element with probability ``p`` and scale
    the survivors by ``1/(1-p)``; in evaluation mode (``model.eval()``), do nothing.

    Parameters
    ----------
    p : float
        Drop probability in ``[0, 1]``.
    rng : Generator, RandomState, int or None
        Where the masks are drawn from; an int makes the sequence of masks reproducible.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, rng: RandomLike = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace  # accepted for PyTorch's code; computed out of place (see ReLU)
        self.rng = resolve_rng(rng)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Flatten axes ``start_dim .. end_dim`` into one: ``(N, C, H, W) -> (N, C H W)`` by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Any) -> Tensor:
        x = F._tensor(x)
        if x.ndim == 0:
            return x.reshape(1)
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        if start > end:
            raise ValueError(
                f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} for "
                f"input of shape {x.shape}"
            )
        return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (``(N, 64) -> (N, 1, 8, 8)``)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, x: Any) -> Tensor:
        x = F._tensor(x)
        dim = self.dim % x.ndim
        if -1 not in self.unflattened_size and np.prod(self.unflattened_size) != x.shape[dim]:
            raise ValueError(
                f"Unflatten: axis {self.dim} of size {x.shape[dim]} cannot become "
                f"{self.unflattened_size} (input shape {x.shape})"
            )
        return x.reshape(x.shape[:dim] + self.unflattened_size + x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self._dim(x))

    def _dim(self, x: Any) -> int:
        if self.dim is not None:
            return self.dim
        # PyTorch's legacy choice when dim is not given: axis 0 for 0-, 1- and 3-D inputs.
        return 0 if np.ndim(x.data if isinstance(x, Tensor) else x) in (0, 1, 3) else 1

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Log-softmax along ``dim``, stable for any input."""

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self._dim(x))


class GELU(Module):
    """GELU ``x Phi(x)``; ``approximate="tanh"`` for the tanh form."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x sigmoid(x)``."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch's code; computed out of place (see ReLU)

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class ELU(Module):
    """``x`` for ``x > 0``, ``alpha (e^x - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace  # accepted for PyTorch's code; computed out of place (see ReLU)

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """``log(1 + e^{beta x}) / beta``, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch's code; computed out of place (see ReLU)
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val = min_val
        self.max_val = max_val

    def forward(self, x: Any) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class Dropout2d(Dropout):
    """Channel dropout for ``(N, C, H, W)``: whole channels zeroed with probability ``p``, the
    kept ones scaled by ``1/(1-p)`` (see :class:`Dropout` for the parameters)."""

    def forward(self, x: Any) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.rng)


class Embedding(Module):
    """A lookup table: integer indices ``(...)`` pick rows of ``weight`` ``(num_embeddings,
    embedding_dim)``, drawn from ``N(0, 1)`` as PyTorch.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int, optional
        This row starts at zero and never receives a gradient.
    rng : Generator, RandomState, int or None
    dtype : dtype
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        rng: RandomLike = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(
                f"Embedding: padding_idx {padding_idx} out of range for {num_embeddings} rows"
            )
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        weight = initialisers.normal(
            (self.num_embeddings, self.embedding_dim), rng=rng, dtype=dtype
        )
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0.0
        self.weight = Parameter(weight)

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding whose weight is (a copy of) ``embeddings`` ``(num, dim)``; with
        ``freeze`` it does not require grad, as in PyTorch.

        Raises
        ------
        ValueError
            If ``embeddings`` is not 2-D.
        """
        values = np.array(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if values.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {values.shape}"
            )
        layer = cls(*values.shape, padding_idx=padding_idx, dtype=values.dtype)
        layer.weight = Parameter(values, requires_grad=not freeze)
        return layer

    def forward(self, input: Any) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}"
