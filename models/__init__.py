"""The SHM networks (no I/O beyond loading a weights file by path) and their presets.

Names are imported on first use: the package also holds the shipped weights and graphs, which the runtime finds
through it without importing torch.
"""
from __future__ import annotations

import importlib

_HOMES = {"WeightsError": ".registry", "create_model": ".registry", "default_weights_path": ".registry",
          "list_models": ".registry", "save_weights": ".registry", "SHM": ".shm", "SHMConfig": ".shm",
          "average_logits": ".shm", "fuse_alpha": ".shm"}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
