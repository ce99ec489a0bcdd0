"""Model presets by name, and loading of their weights.

``create_model("shm")`` builds the network and loads the weights shipped beside this file;
``weights=None`` gives a random-initialised model (tests), a path loads that file.
Weights files are dicts ``{"format", "model", "config", "state_dict", "meta"}`` saved with ``torch.save``
and read back with ``weights_only=True``.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from .shm import SHM, SHMConfig

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
FORMAT = "livematte-weights-1"


class WeightsError(RuntimeError):
    """A weights file is missing, unreadable, or does not fit the model."""


PRESETS: dict[str, SHMConfig] = {
    "shm": SHMConfig(tnet_width=1.0, mnet_width=1.0),
    "shm-tiny": SHMConfig(tnet_width=0.25, mnet_width=0.5),
    # shm with a T-Net 1.5x as wide (0.77 M parameters, about twice the time): the offline candidate for #23, grown
    # from shm's weights (models/widen.py); one T-Net pass of it costs what shm's two do.
    "shm-wide": SHMConfig(tnet_width=1.5),
    # Leaner for live use on 2 cores: T-Net decoder to /4; M-Net with expansion 2, down to /4 only, and a sub-pixel
    # head, each where bench showed the time going (timings in the model card).
    "shm-lite": SHMConfig(tnet_head_stride=4, mnet_expand=2, mnet_levels=2, mnet_head="shuffle"),
}
# Clean-plate mode: each automatic preset with nets that also see the empty background (models/plate.py).
PLATE_MODELS = {name: f"{name}-plate" for name in PRESETS}
PRESETS.update({PLATE_MODELS[name]: replace(config, plate=True) for name, config in list(PRESETS.items())})


def plate_model_name(name: str) -> str:
    """The clean-plate preset of automatic preset ``name`` (itself for a plate preset)."""
    if name in PLATE_MODELS.values():
        return name
    if name not in PLATE_MODELS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return PLATE_MODELS[name]


def default_weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.pt"


def list_models() -> list[str]:
    return sorted(PRESETS)


def build(name: str) -> SHM:
    if name not in PRESETS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    return SHM(PRESETS[name])


def read_weights(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated/corrupt/pickled files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise WeightsError(f"cannot read weights file {path} (corrupt, truncated or not a weights file): "
                           f"{reason[:200]}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT or "state_dict" not in blob:
        raise WeightsError(f"{path} is not a livematte weights file")
    return blob


def save_weights(model: SHM, path: str | Path, name: str, meta: dict[str, Any] | None = None,
                 half: bool = True) -> None:
    """Save the state dict (fp16 by default: half the size, same accuracy after loading back to fp32)."""
    state = {k: (v.half() if half and v.is_floating_point() else v).clone() for k, v in model.state_dict().items()}
    blob = {"format": FORMAT, "model": name, "config": asdict(model.config), "state_dict": state, "meta": meta or {}}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(blob, path)


def _saved_config(blob: dict[str, Any]) -> dict[str, Any] | None:
    """A weights file's config, with the fields added to SHMConfig after it was written at their defaults."""
    saved = blob.get("config")
    return {**asdict(SHMConfig()), **saved} if isinstance(saved, dict) else None


def same_architecture(blob: dict[str, Any], config: SHMConfig) -> bool:
    """Whether a weights file's config is ``config``."""
    return _saved_config(blob) == asdict(config)


def _config_changes(blob: dict[str, Any], config: SHMConfig) -> str:
    saved = _saved_config(blob) or {}
    return ", ".join(f"{k} {saved.get(k)!r} -> {v!r}" for k, v in asdict(config).items() if saved.get(k) != v)


def float_state(blob: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A weights file's state dict in float32 (files store fp16)."""
    return {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}


def create_model(name: str = "shm", weights: str | Path | None = "default") -> SHM:
    """Build preset ``name``; ``weights``: "default" (shipped file, random init if none ships),
    a path, or None (random init). The model is returned in eval mode; ``model.trained`` says whether
    weights were loaded, ``model.meta`` carries the file's metadata."""
    model = build(name)
    model.trained = False
    model.meta = {}
    if weights == "default":
        path = default_weights_path(name)
        weights = path if path.is_file() else None
    if weights is not None:
        blob = read_weights(weights)
        if not same_architecture(blob, model.config):
            if blob.get("model") == name:
                raise WeightsError(f"{weights} holds an older {name!r} (its architecture has changed since: "
                                   f"{_config_changes(blob, model.config)}); train one again, or start a training "
                                   f"run from it with --init")
            raise WeightsError(f"{weights} holds a {blob.get('model')!r} model, which does not fit {name!r} "
                               f"(give --model {blob.get('model')} if it is one)")
        state = float_state(blob)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise WeightsError(f"{weights} does not fit model {name!r}: {exc}") from None
        model.trained = True
        model.meta = dict(blob.get("meta", {}))
    return model.eval()
