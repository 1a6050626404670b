"""Named specs shipped with lmclab: the paper's presets and the demo."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def preset_names() -> list[str]:
    folder = resources.files(__package__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def preset_path(name: str) -> Path:
    """The YAML file of preset `name`; the error lists the presets that exist."""
    path = Path(str(resources.files(__package__).joinpath(f"{name}.yaml")))
    if not path.is_file():
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
    return path
