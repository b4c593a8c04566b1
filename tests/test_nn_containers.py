"""Tests for tinygrad_dl/nn/containers.py: ModuleList, ModuleDict, ParameterList register what
they hold under PyTorch's names, and a plain list of layers is refused."""

import numpy as np
import pytest
from torch_twins import import_torch

import tinygrad_dl as tg
from tinygrad_dl import nn


class _Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3, rng=i) for i in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 1, rng=5), "b": nn.Linear(3, 2, rng=6)})
        self.scales = nn.ParameterList([np.ones(3), nn.Parameter(np.full(1, 2.0))])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).tanh() * self.scales[0]
        return self.heads["a"](x) * self.scales[1]


def test_containers_register_under_pytorchs_names():
    names = [name for name, _ in _Tower().named_parameters()]
    assert names == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
        "scales.0",
        "scales.1",
    ]


def test_container_state_dict_loads_into_the_same_pytorch_model():
    torch = import_torch()

    class Twin(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3) for _ in range(2)])
            self.heads = torch.nn.ModuleDict(
                {"a": torch.nn.Linear(3, 1), "b": torch.nn.Linear(3, 2)}
            )
            self.scales = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(1))]
            )

        def forward(self, x):
            for layer in self.layers:
                x = torch.tanh(layer(x)) * self.scales[0]
            return self.heads["a"](x) * self.scales[1]

    ours, theirs = _Tower(), Twin().double()
    theirs.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((4, 3))
    with tg.no_grad():
        np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy())


def test_plain_list_of_modules_is_refused_pointing_at_modulelist():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2, rng=0), nn.ReLU()]

    with pytest.raises(TypeError, match=r"Bad\.layers: a plain list of Modules.*nn\.ModuleList"):
        Bad()

    class AlsoBad(nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = (nn.Parameter(np.ones(2)),)

    with pytest.raises(TypeError, match=r"plain tuple of Parameters.*nn\.ParameterList"):
        AlsoBad()


def test_plain_dict_of_modules_is_refused_pointing_at_moduledict():
    module = nn.Identity()
    with pytest.raises(TypeError, match=r"Identity\.heads: a plain dict of Modules.*ModuleDict"):
        module.heads = {"a": nn.ReLU()}


def test_plain_lists_of_other_things_are_still_allowed():
    module = nn.Identity()
    module.sizes = [1, 2, 3]
    assert module.sizes == [1, 2, 3]


def test_module_list_behaves_like_a_list():
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    layers.append(nn.Sigmoid())
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    del layers[1]
    assert [type(m).__name__ for m in layers] == ["Identity", "Tanh", "Sigmoid"]
    assert isinstance(layers[-1], nn.Sigmoid) and len(layers[1:]) == 2
    layers[0] = nn.ReLU()
    assert isinstance(layers[0], nn.ReLU)
    layers += [nn.Identity()]
    assert len(layers) == 4
    with pytest.raises(IndexError, match="index 9 out of range for 4 modules"):
        layers[9]
    with pytest.raises(TypeError, match="expected a Module, got int"):
        layers.append(3)
    with pytest.raises(NotImplementedError, match="iterate over it"):
        layers(np.zeros(2))


def test_module_dict_behaves_like_a_dict():
    heads = nn.ModuleDict({"x": nn.ReLU()})
    heads["y"] = nn.Tanh()
    assert list(heads) == ["x", "y"] and "y" in heads and len(heads) == 2
    assert isinstance(heads.pop("x"), nn.ReLU) and list(heads.keys()) == ["y"]
    with pytest.raises(KeyError, match="no module 'z'; keys: \\['y'\\]"):
        heads["z"]


def test_parameter_list_wraps_tensors_and_arrays():
    params = nn.ParameterList([tg.Tensor(np.ones(2)), np.zeros(3)])
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert [p.shape for p in params] == [(2,), (3,)]
    assert len(list(nn.Sequential(nn.Linear(1, 1, rng=0)).parameters())) == 2
