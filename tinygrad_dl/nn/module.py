"""``Module`` and ``Parameter``: the containers that hold a model's weights, as in PyTorch.

A module registers every ``Parameter`` and sub-``Module`` assigned to one of its attributes, in
assignment order; ``named_parameters()`` walks them with dotted names (``"0.weight"``), which are
also the state-dict keys, identical to PyTorch's, so a trained model's arrays load into the
same PyTorch architecture.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..backend import astype, is_numpy, numpy_dtype, parse_device, to_device, to_numpy
from ..backend import kind as _kind
from ..serialization import IncompatibleKeys, StateDictError, check_state_dict
from ..tensor import Tensor

__all__ = ["Module", "Parameter"]


def _from_foreign(value: Any, dtype: Any) -> Any:
    """A state-dict value as an ndarray: torch tensors through ``.detach().cpu().numpy()``,
    floating arrays cast to ``dtype`` when one is given; anything else unchanged (and then
    refused by the checks with its type named)."""
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif isinstance(value, Tensor):
        value = to_numpy(value.data)  # a device's Tensor is checked and copied from the host
    if dtype is not None and isinstance(value, np.ndarray) and value.dtype.kind == "f":
        value = value.astype(dtype, copy=False)
    return value


def _host_like(array: Any) -> np.ndarray:
    """``array`` itself on the CPU; elsewhere a host stand-in of its shape and dtype (a
    broadcast zero: no copy), which is all the state-dict check reads."""
    if is_numpy(array):
        return array
    return np.broadcast_to(np.zeros((), numpy_dtype(array.dtype)), array.shape)


class Parameter(Tensor):
    """A Tensor that is a model's weight: it requires grad, and a Module registers it.

    Parameters
    ----------
    data : array_like or Tensor
        The initial values (a Tensor's array is shared, not copied).
    requires_grad : bool
        ``True`` by default.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _moved(array: Any, dtype: Any, device: Any) -> Any:
    """``array`` cast to ``dtype`` and moved to ``device`` (either may be None: unchanged)."""
    if device is not None:
        array = to_device(array, device)
    if dtype is not None and numpy_dtype(array.dtype) != dtype:
        array = astype(array, dtype)
    return array


class Module:
    """Base class of layers and models: write ``__init__`` (assign layers and Parameters as
    attributes) and ``forward``; call the module to run it.

    Examples
    --------
    >>> import tinygrad_dl as tg
    >>> from tinygrad_dl import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = nn.Linear(2, 4, rng=0)
    ...         self.out = nn.Linear(4, 1, rng=0)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).tanh())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration ---------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        parameters = self.__dict__.get("_parameters")
        if parameters is None:
            if isinstance(value, Parameter | Module):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before "
                    f"Module.__init__() is called (call super().__init__() first)"
                )
        else:
            if isinstance(value, list | tuple) and any(
                isinstance(item, Module | Parameter) for item in value
            ):
                kind = (
                    "ModuleList" if any(isinstance(i, Module) for i in value) else "ParameterList"
                )
                raise TypeError(
                    f"{type(self).__name__}.{name}: a plain {type(value).__name__} of "
                    f"{'Modules' if kind == 'ModuleList' else 'Parameters'} is not registered "
                    f"(its parameters would be invisible to the optimiser and the state dict); "
                    f"use nn.{kind}([...])"
                )
            if isinstance(value, dict) and any(isinstance(item, Module) for item in value.values()):
                raise TypeError(
                    f"{type(self).__name__}.{name}: a plain dict of Modules is not registered "
                    "(its parameters would be invisible to the optimiser and the state dict); "
                    "use nn.ModuleDict({...})"
                )
            buffers = self.__dict__["_buffers"]
            if name in buffers:
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(
                        f"cannot assign {type(value).__name__} to buffer {name!r}; expected a "
                        "Tensor or None"
                    )
                buffers[name] = value
            modules = self.__dict__["_modules"]
            if isinstance(value, Parameter):
                modules.pop(name, None)
                parameters[name] = value
            elif isinstance(value, Module):
                parameters.pop(name, None)
                modules[name] = value
            elif name in parameters:
                if isinstance(value, Tensor):
                    raise TypeError(
                        f"cannot assign a plain Tensor to parameter {name!r}; wrap it in "
                        "nn.Parameter, or assign to .data to change its values"
                    )
                if value is None:
                    parameters[name] = None
                else:
                    del parameters[name]
            elif name in modules:
                if value is None:
                    modules[name] = None
                else:
                    del modules[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_buffers"].pop(name, None)
        self.__dict__["_modules"].pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register a non-trained state array (BatchNorm's ``running_mean``) under ``name``.

        Buffers are in the state dict (unless ``persistent=False``), follow :meth:`to`, and
        are never handed to an optimiser.

        Parameters
        ----------
        name : str
            The attribute and state-dict name.
        tensor : Tensor, array_like or None
            Stored as a Tensor that does not require grad.
        persistent : bool
            Whether :meth:`state_dict` includes it.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot register a buffer before Module.__init__() is called")
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(np.asarray(tensor))
        self.__dict__["_parameters"].pop(name, None)
        self.__dict__["_buffers"][name] = tensor
        if persistent:
            self.__dict__["_non_persistent"].discard(name)
        else:
            self.__dict__["_non_persistent"].add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (same as assigning the attribute)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: expected a Parameter, got {type(param).__name__}")
        self.__dict__["_parameters"][name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under ``name`` (which may be any string, such as ``"0"``)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: expected a Module, got {type(module).__name__}")
        self.__dict__["_modules"][name] = module
        object.__setattr__(self, name, module)

    # -- running ------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- traversal ----------------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their attribute names."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct submodules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all its descendants, each once, with dotted names."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module.named_children()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and all its descendants."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter (a shared one once) with its dotted name, e.g. ``"0.weight"``.

        Parameters
        ----------
        prefix : str
            Prepended to every name.
        recurse : bool
            Include the submodules' parameters.

        Yields
        ------
        (str, Parameter)
        """
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (for the optimiser: ``SGD(model.parameters(), lr=0.1)``)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name, e.g. ``"1.running_mean"``."""
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _named_state(self) -> Iterator[tuple[str, Tensor]]:
        # PyTorch's state-dict order: each module's parameters, then its persistent buffers,
        # then its children's, depth first.
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            prefix = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None and id(param) not in seen:
                    seen.add(id(param))
                    yield prefix + name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield prefix + name, buffer

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule and then on this module; returns ``self``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and its descendants."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout off): ``train(False)``."""
        return self.train(False)

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Move and/or cast every parameter and buffer in place; returns ``self``.

        ``model.to("cuda")``, ``model.to(np.float32)``, ``model.to("cuda", np.float32)``, as
        PyTorch. The parameters stay the same objects with new arrays, so call it before
        creating the optimiser (whose state lives where the parameters were). Gradients are
        dropped.

        Raises
        ------
        TypeError
            For a non-floating dtype.
        ValueError
            For an unknown device.
        """
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0] in (
                "cpu",
                "cuda",
                "mps",
                "array_api_strict",
            ):
                device = arg
            elif type(arg).__name__ == "device":  # torch.device("cuda")
                device = str(arg)
            else:
                dtype = arg
        if device is not None:
            device = parse_device(device)  # ValueError for mps and unknown names
        if dtype is not None:
            dtype = np.dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__}.to: parameters must be floating point, got {dtype}"
                )
        for param in self.parameters():
            param.data = _moved(param.data, dtype, device)
            param.grad = None
        for buffer in self.buffers():
            buffer.data = _moved(
                buffer.data, dtype if _kind(buffer.data.dtype) == "f" else None, device
            )
        return self

    def cpu(self) -> Module:
        """Move every parameter and buffer to main memory (NumPy); see :meth:`to`."""
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Module:
        """Move every parameter and buffer to the GPU (CuPy); see :meth:`to`."""
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Module:
        """Cast the parameters to float32 (see :meth:`to`)."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Cast the parameters to float64, the course's dtype (see :meth:`to`)."""
        return self.to(np.float64)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient tracking of every parameter (to freeze layers); returns ``self``."""
        for param in self.parameters():
            param.requires_grad = bool(requires_grad)
        return self

    def get_submodule(self, target: str) -> Module:
        """The descendant at the dotted path ``target`` (``""`` is this module).

        Raises
        ------
        AttributeError
            Naming the first missing part.
        """
        module: Module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = child
        return module

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (``None``, or zero-filled in place)."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad.data.fill(0)

    # -- state dicts --------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """The parameters and persistent buffers by dotted name, as detached Tensors sharing
        their arrays (BatchNorm adds ``running_mean``, ``running_var``, ``num_batches_tracked``).

        As in PyTorch the values are not copies: ``tg.save(model.state_dict(), path)`` stores
        them; to keep a snapshot in memory, copy the arrays.

        Returns
        -------
        OrderedDict[str, Tensor]
        """
        return OrderedDict((name, tensor.detach()) for name, tensor in self._named_state())

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, dtype: Any = None
    ) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` into the parameters and buffers, in place.

        Keys, shapes and dtypes are all checked first; on any mismatch nothing is changed and
        the error lists every problem. A PyTorch state dict (``torch.load`` of
        ``model.state_dict()``) loads into the same architecture: its tensors are read through
        ``.detach().cpu().numpy()``.

        Parameters
        ----------
        state_dict : Mapping[str, Tensor, numpy.ndarray or torch.Tensor]
            From :meth:`state_dict`, ``tg.load`` or PyTorch.
        strict : bool
            Whether missing and unexpected keys are errors (shapes and dtypes always are).
        dtype : dtype, optional
            Cast the incoming floating-point arrays to this dtype first. Off by default: a
            float32 PyTorch dict loaded into the course's float64 model is an error, so a cast
            is always asked for (``dtype=np.float64``), never silent.

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)``.

        Raises
        ------
        StateDictError
            Listing the missing and unexpected keys and the shape and dtype mismatches.
        """
        params = dict(self._named_state())
        if isinstance(state_dict, Mapping):
            state_dict = {key: _from_foreign(value, dtype) for key, value in state_dict.items()}
        try:
            arrays, incompatible = check_state_dict(
                type(self).__name__,
                {name: _host_like(param.data) for name, param in params.items()},
                state_dict,
                strict=strict,
            )
        except StateDictError as error:
            if dtype is None and ": dtype " in str(error):
                raise StateDictError(
                    f"{error} (to cast floating-point values, pass "
                    "load_state_dict(..., dtype=np.float64) or the model's dtype)"
                ) from None
            raise
        with no_grad():
            for name, array in arrays.items():
                if array is params[name].data:
                    continue
                if not is_numpy(params[name].data):  # onto the model's device
                    array = to_device(array, params[name].device)
                params[name][...] = array
        return incompatible

    def num_parameters(self) -> int:
        """The number of scalar parameters."""
        return int(sum(np.prod(p.shape, dtype=np.int64) for p in self.parameters()))

    # -- printing -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's ``repr`` line."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}("]
        if extra:
            lines.append(f"  {extra}")
        for name, child in children:
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        lines.append(")")
        return "\n".join(lines)
