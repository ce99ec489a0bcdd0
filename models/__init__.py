"""The SHM networks (no I/O beyond loading a weights file by path) and their presets."""
from .registry import WeightsError, create_model, default_weights_path, list_models, save_weights
from .shm import SHM, SHMConfig, average_logits, fuse_alpha

__all__ = ["SHM", "SHMConfig", "WeightsError", "average_logits", "create_model", "default_weights_path", "fuse_alpha",
           "list_models", "save_weights"]
