"""Every seed of an experiment derives from the spec's one `seed` (DESIGN §2).

A hash of (seed, role, indices) rather than a RNG stream: any trunk's or branch's seed can be
computed alone, by the server when it expands a spec, without numpy or torch.
"""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, *path: str | int) -> int:
    """A 63-bit seed for the component named by `path`, e.g. derive_seed(0, "trunk", 1, "init")."""
    text = "/".join(str(part) for part in (seed, *path))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def trunk_init_seed(seed: int, trunk: int) -> int:
    return derive_seed(seed, "trunk", trunk, "init")


def trunk_data_seed(seed: int, trunk: int) -> int:
    """z_0, the data order of trunk r."""
    return derive_seed(seed, "trunk", trunk, "data")


def branch_data_seed(seed: int, trunk: int, split_step: int, branch: int) -> int:
    """z_i, the data order of branch i of the hull (trunk r, split step k)."""
    return derive_seed(seed, "trunk", trunk, "split", split_step, "branch", branch, "data")


def hull_sample_seed(seed: int, trunk: int, split_step: int) -> int:
    """Seeds the Dirichlet weights and Gaussian directions of one hull's CMC samples."""
    return derive_seed(seed, "trunk", trunk, "split", split_step, "cmc")
