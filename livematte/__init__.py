"""livematte: real-time human matting.

The names below are imported on first use, so that ``import livematte.cli`` (the command line's entry point) costs
no torch import: ``livematte --help`` answers at once, and a signal during start-up reaches the CLI's handlers.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"
_HOMES = {"Matter": ".engine", "EngineConfig": ".config", "create_model": ".models", "list_models": ".models",
          "LivematteError": ".errors", "InputError": ".errors", "OutputError": ".errors", "SettingsError": ".errors",
          "DeviceError": ".errors"}
__all__ = [*_HOMES, "__version__"]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'livematte' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
