from __future__ import annotations

import pytest
import torch

from worker.models.registry import ModelFactory
from worker.training import params as P


def test_init_is_a_pure_function_of_the_seed(lenet_factory: ModelFactory) -> None:
    before = torch.get_rng_state()
    a, buffers = P.init_state(lenet_factory, 7)
    b, _ = P.init_state(lenet_factory, 7)
    c, _ = P.init_state(lenet_factory, 8)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's RNG is left alone
    assert all(torch.equal(a[n], b[n]) for n in a)
    assert not torch.equal(a["conv1.weight"], c["conv1.weight"])
    assert buffers == {}
    assert P.num_params(a) == 62_006
    assert not any(t.requires_grad for t in a.values())


def test_template_is_structure_only(lenet_factory: ModelFactory) -> None:
    model = P.template(lenet_factory)
    assert all(p.is_meta for p in model.parameters())


def test_stack_unstack_flatten_unflatten_round_trip(lenet_factory: ModelFactory) -> None:
    members = [P.init_state(lenet_factory, s)[0] for s in range(3)]
    stacked = P.stack(members)
    assert stacked["fc1.weight"].shape == (3, 120, 400)
    assert P.members(stacked) == 3
    for original, back in zip(members, P.unstack(stacked), strict=True):
        assert all(torch.equal(original[n], back[n]) for n in original)
    flat = P.flatten(stacked)
    assert flat.shape == (3, 62_006)
    rebuilt = P.unflatten(flat, like=members[0])
    assert all(torch.equal(rebuilt[n], stacked[n]) for n in stacked)


def test_flatten_order_is_sorted_names_whatever_the_dict_order() -> None:
    stacked = {"b": torch.tensor([[1.0, 2.0]]), "a": torch.tensor([[3.0]])}
    assert P.flatten(stacked).tolist() == [[3.0, 1.0, 2.0]]
    assert P.flatten(dict(reversed(list(stacked.items())))).tolist() == [[3.0, 1.0, 2.0]]
    back = P.unflatten(
        torch.tensor([[3.0, 1.0, 2.0], [6.0, 4.0, 5.0]]),
        like={"b": torch.zeros(2), "a": torch.zeros(1)},
    )
    assert back["a"].tolist() == [[3.0], [6.0]] and back["b"].tolist() == [[1.0, 2.0], [4.0, 5.0]]


def test_select_copies_and_repeat_expands() -> None:
    stacked = {"w": torch.arange(6.0).reshape(3, 2)}
    one = P.select(stacked, 1)
    assert one["w"].tolist() == [2.0, 3.0]
    assert one["w"].untyped_storage().data_ptr() != stacked["w"].untyped_storage().data_ptr()
    rep = P.repeat(one, 4)
    assert rep["w"].shape == (4, 2) and rep["w"].is_contiguous()
    rep["w"][0, 0] = 99.0  # independent storage, not an expanded view
    assert rep["w"][1, 0] == 2.0


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="zero members"):
        P.stack([])
    with pytest.raises(ValueError, match="member 1 has names"):
        P.stack([{"a": torch.zeros(1)}, {"b": torch.zeros(1)}])
    with pytest.raises(ValueError, match="D = 2"):
        P.unflatten(torch.zeros(1, 2), like={"a": torch.zeros(3)})
    with pytest.raises(ValueError, match="leading axis"):
        P.members({"a": torch.zeros(2, 1), "b": torch.zeros(3, 1)})
