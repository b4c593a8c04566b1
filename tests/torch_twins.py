"""Run the same layer or function here and in PyTorch and compare values and gradients.

``assert_module_matches`` copies our module's state dict into the PyTorch twin (so the keys and
shapes must be PyTorch's, strictly), runs both on the same input, backpropagates the same
weighted sum, and compares the output, the input's gradient, every parameter's gradient by name
and every buffer afterwards (BatchNorm's running statistics). ``assert_function_matches`` does
the same for a function of arrays.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_dl as tg
from tinygrad_dl.testing import weighted_sum


def import_torch():
    """torch, or a visible skip of the calling test when it is not installed."""
    return pytest.importorskip(
        "torch", reason="torch is the optional differential peer: pip install torch==2.13.0"
    )


def _close(ours, theirs, what, rtol, atol):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=what)


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


def assert_module_matches(ours, theirs, *inputs, rtol=1e-9, atol=1e-11, grad_input=True):
    """Same state, same input: same output, input gradient, parameter gradients, buffers."""
    torch = import_torch()
    theirs = theirs.double()
    theirs.load_state_dict(
        {k: torch.from_numpy(np.array(v.data)) for k, v in ours.state_dict().items()}
    )
    theirs.train(ours.training)
    floats = [np.asarray(x).dtype.kind == "f" and grad_input for x in inputs]
    ours_in = [tg.Tensor(np.array(x), requires_grad=f) for x, f in zip(inputs, floats)]
    theirs_in = [torch.tensor(np.array(x), requires_grad=f) for x, f in zip(inputs, floats)]
    ours_out = _outputs(ours(*ours_in))[0]
    theirs_out = _outputs(theirs(*theirs_in))[0]
    _close(ours_out.data, theirs_out, "output", rtol, atol)
    if ours_out.requires_grad:
        weighted_sum(ours_out).backward()
        weighted_sum(theirs_out).backward()
        for position, (a, b) in enumerate(zip(ours_in, theirs_in)):
            if a.requires_grad:
                _close(a.grad.data, b.grad, f"gradient of input {position}", rtol, atol)
        theirs_params = dict(theirs.named_parameters())
        for name, param in ours.named_parameters():
            expected = theirs_params[name].grad
            if expected is None:
                assert param.grad is None or not np.any(param.grad.data), name
            else:
                _close(param.grad.data, expected, f"gradient of {name}", rtol, atol)
    theirs_buffers = dict(theirs.named_buffers())
    for name, buffer in ours.named_buffers():
        _close(buffer.data, theirs_buffers[name], f"buffer {name}", rtol, atol)
    return ours_out


def assert_function_matches(ours_fn, theirs_fn, *arrays, rtol=1e-9, atol=1e-11, grads=None):
    """``ours_fn(*Tensors)`` and ``theirs_fn(*torch tensors)`` agree in value and gradient.

    ``grads`` says which arrays require grad (default: the floating ones).
    """
    torch = import_torch()
    if grads is None:
        grads = [np.asarray(a).dtype.kind == "f" for a in arrays]
    ours_in = [tg.Tensor(np.array(a), requires_grad=g) for a, g in zip(arrays, grads)]
    theirs_in = [torch.tensor(np.array(a), requires_grad=g) for a, g in zip(arrays, grads)]
    ours_out = ours_fn(*ours_in)
    theirs_out = theirs_fn(*theirs_in)
    _close(ours_out.data, theirs_out, "output", rtol, atol)
    if any(grads):
        weighted_sum(ours_out).backward()
        weighted_sum(theirs_out).backward()
        for position, (a, b) in enumerate(zip(ours_in, theirs_in)):
            if a.requires_grad:
                _close(a.grad.data, b.grad, f"gradient of argument {position}", rtol, atol)
    return ours_out
