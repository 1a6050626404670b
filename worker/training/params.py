"""Functional model state: parameters and buffers as name -> tensor dicts, stacked on a P axis.

Training and analysis never hold nn.Module weights: a module is only a template for
`torch.func.functional_call`, and the state is plain dicts, so P branches or M hull samples become
one dict of (P, ...) tensors that vmap and elementwise optimizers handle in one go.
Flattening uses the sorted parameter names, so a flat vector means the same thing whether the
dict came from a fresh model or from a checkpoint (whose key order is the file's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

Params = dict[str, Tensor]


def init_state(
    factory: Callable[[], nn.Module], seed: int, device: torch.device | str = "cpu"
) -> tuple[Params, Params]:
    """Parameters and buffers of a freshly initialised model, a pure function of `seed`.

    The model is built on the CPU under a forked, seeded global RNG (PyTorch's initialisers draw
    from it), so the same seed gives the same init on every device and the caller's RNG stream
    is left untouched.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = factory()
    params = {n: p.detach().clone().to(device) for n, p in model.named_parameters()}
    buffers = {n: b.detach().clone().to(device) for n, b in model.named_buffers()}
    return params, buffers


def template(factory: Callable[[], nn.Module]) -> nn.Module:
    """The module on the meta device: structure only, for functional_call (no memory, no RNG)."""
    with torch.device("meta"):
        return factory()


def names(params: Mapping[str, Tensor]) -> list[str]:
    """The fixed order of flattening: sorted names."""
    return sorted(params)


def num_params(params: Mapping[str, Tensor]) -> int:
    """Number of scalars in one member's parameters (D)."""
    return sum(p.numel() for p in params.values())


def stack(members: Sequence[Mapping[str, Tensor]]) -> Params:
    """[{name: (...)}] * P -> {name: (P, ...)}; every member must have the same names."""
    if not members:
        raise ValueError("cannot stack zero members")
    keys = set(members[0])
    for i, member in enumerate(members):
        if set(member) != keys:
            raise ValueError(f"member {i} has names {sorted(member)}, member 0 {sorted(keys)}")
    return {n: torch.stack([m[n] for m in members]) for n in members[0]}  # (P, ...)


def members(stacked: Mapping[str, Tensor]) -> int:
    """P, the size of the leading axis (all tensors must agree; an empty dict has none)."""
    sizes = {t.shape[0] for t in stacked.values()}
    if len(sizes) != 1:
        raise ValueError(f"stacked tensors disagree on the leading axis: {sorted(sizes)}")
    return sizes.pop()


def select(stacked: Mapping[str, Tensor], i: int) -> Params:
    """Member i as its own contiguous copy (safe to save: no memory shared with the stack)."""
    return {n: t[i].clone().contiguous() for n, t in stacked.items()}


def unstack(stacked: Mapping[str, Tensor]) -> list[Params]:
    """{name: (P, ...)} -> [{name: (...)}] * P, each an independent copy."""
    if not stacked:
        raise ValueError("cannot unstack an empty dict: the number of members is unknown")
    return [select(stacked, i) for i in range(members(stacked))]


def repeat(state: Mapping[str, Tensor], p: int) -> Params:
    """One member's state copied P times: {name: (...)} -> {name: (P, ...)} (e.g. the split)."""
    return {n: t.unsqueeze(0).expand(p, *t.shape).clone() for n, t in state.items()}  # (P, ...)


def flatten(stacked: Mapping[str, Tensor]) -> Tensor:
    """{name: (P, ...)} -> W (P, D), names in sorted order."""
    p = members(stacked)
    return torch.cat([stacked[n].reshape(p, -1) for n in names(stacked)], dim=1)  # (P, D)


def unflatten(flat: Tensor, like: Mapping[str, Tensor]) -> Params:
    """W (M, D) -> {name: (M, ...)}, shaped like the single-member dict `like` (no leading axis).

    The tensors are views into `flat` (no copy): the vmapped forward reads them directly.
    """
    if flat.dim() != 2:
        raise ValueError(f"expected W of shape (M, D), got {tuple(flat.shape)}")
    total = num_params(like)
    if flat.shape[1] != total:
        raise ValueError(f"W has D = {flat.shape[1]} but the parameters have {total} scalars")
    out: Params = {}
    offset = 0
    for n in names(like):
        shape = like[n].shape
        size = like[n].numel()
        out[n] = flat[:, offset : offset + size].reshape(flat.shape[0], *shape)  # (M, ...)
        offset += size
    return out
