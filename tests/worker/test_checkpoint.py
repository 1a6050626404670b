from __future__ import annotations

import hashlib
import json
import struct

import pytest
import torch
from safetensors.torch import save as st_save

from worker.checkpoint import (
    FORMAT,
    CheckpointError,
    load_checkpoint,
    read_metadata,
    rng_state,
    save_checkpoint,
    save_member,
)
from worker.models.registry import ModelFactory
from worker.training import optim
from worker.training.params import init_state, select, stack


def _state(factory: ModelFactory) -> tuple[dict, dict, dict]:
    params, _ = init_state(factory, 3)
    buffers = {"bn.running_mean": torch.arange(4.0), "bn.num_batches_tracked": torch.tensor(7)}
    config = optim.Optim(name="sgd", lr=0.1, momentum=0.9)
    opt = optim.init_state(config, params, stacked=False)
    grads = {n: torch.ones_like(p) for n, p in params.items()}
    params, opt = optim.step(config, params, grads, opt)
    return params, buffers, opt


def test_round_trip(lenet_factory: ModelFactory) -> None:
    params, buffers, opt = _state(lenet_factory)
    rng = rng_state(12345, 40)
    blob = save_checkpoint(params=params, buffers=buffers, opt_state=opt, step=40, rng=rng)
    ckpt = load_checkpoint(blob, device="cpu")
    assert ckpt.step == 40
    for ours, theirs in (
        (params, ckpt.params),
        (buffers, ckpt.buffers),
        (opt, ckpt.opt_state),
        (rng, ckpt.rng),
    ):
        assert set(ours) == set(theirs)
        for n in ours:
            assert theirs[n].dtype == ours[n].dtype and torch.equal(theirs[n], ours[n]), n
    assert int(ckpt.rng["data_seed"]) == 12345
    torch.Generator().set_state(ckpt.rng["torch"])  # a valid generator state


def test_tensor_names_and_metadata(lenet_factory: ModelFactory) -> None:
    params, buffers, opt = _state(lenet_factory)
    blob = save_checkpoint(
        params=params, buffers=buffers, opt_state=opt, step=5, rng=rng_state(1, 5)
    )
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    assert header.pop("__metadata__") == {"format": FORMAT, "step": "5"}
    assert {
        "param/conv1.weight",
        "buffer/bn.running_mean",
        "optim/momentum/conv1.weight",
        "optim/step",
        "rng/torch",
        "rng/data_seed",
    } <= set(header)
    assert read_metadata(blob) == {"format": "lmclab-checkpoint/1", "step": "5"}


def test_identical_state_gives_identical_bytes(lenet_factory: ModelFactory) -> None:
    params, buffers, opt = _state(lenet_factory)
    one = save_checkpoint(
        params=params, buffers=buffers, opt_state=opt, step=9, rng=rng_state(4, 9)
    )
    shuffled = {n: params[n].clone() for n in reversed(list(params))}
    two = save_checkpoint(
        params=shuffled, buffers=dict(buffers), opt_state=dict(opt), step=9, rng=rng_state(4, 9)
    )
    assert one == two
    assert hashlib.sha256(one).hexdigest() == hashlib.sha256(two).hexdigest()
    other_step = save_checkpoint(
        params=params, buffers=buffers, opt_state=opt, step=9, rng=rng_state(4, 10)
    )
    assert other_step != one


def test_members_of_stacked_tensors_save_cleanly(lenet_factory: ModelFactory) -> None:
    members = [init_state(lenet_factory, s)[0] for s in range(3)]
    stacked = stack(members)  # (3, ...): slices share memory, which safetensors refuses
    config = optim.Optim(name="adam")
    opt = optim.init_state(config, stacked, stacked=True)
    blob = save_member(params=stacked, buffers={}, opt_state=opt, member=2, step=0)
    ckpt = load_checkpoint(blob)
    assert all(torch.equal(ckpt.params[n], members[2][n]) for n in members[2])
    assert ckpt.opt_state["step"].shape == () and set(ckpt.opt_state) == set(select(opt, 2))
    assert ckpt.rng == {} and ckpt.buffers == {}


def test_rejects_what_is_not_an_lmclab_checkpoint() -> None:
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_checkpoint(b"\x00\x01garbage")
    foreign = st_save({"weight": torch.zeros(2)}, metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not an lmclab-checkpoint/1 checkpoint"):
        load_checkpoint(foreign)
    stray = st_save({"weights/x": torch.zeros(1)}, metadata={"format": FORMAT, "step": "1"})
    with pytest.raises(CheckpointError, match="unexpected tensor 'weights/x'"):
        load_checkpoint(stray)
    with pytest.raises(ValueError, match="step must be >= 0"):
        save_checkpoint(params={"w": torch.zeros(1)}, buffers={}, opt_state={}, step=-1)


def test_rng_state_is_a_function_of_seed_and_step() -> None:
    assert torch.equal(rng_state(7, 3)["torch"], rng_state(7, 3)["torch"])
    assert not torch.equal(rng_state(7, 3)["torch"], rng_state(7, 4)["torch"])
    assert not torch.equal(rng_state(7, 3)["torch"], rng_state(8, 3)["torch"])
    with pytest.raises(ValueError, match="data_seed"):
        rng_state(2**63, 0)
