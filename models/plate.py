"""Clean-plate models started from an automatic model: the same tensors, the first convolutions widened.

A plate preset's T-Net stem and M-Net input convolutions (and the M-Net's image head) take the plate's channels
after the image's (``tnet.plate_input``). Their weights for those extra channels start at zero, so that a plate
model made from automatic weights gives exactly the automatic model's matte until training teaches it to use
the plate. Pure tensor code: no I/O.
"""
from __future__ import annotations

import torch

# The convolutions that read the plate's channels, after the image's (and the trimap's, in the M-Net).
PLATE_INPUTS = ("tnet.stem.0.weight", "mnet.enc1.0.weight", "mnet.refine.0.weight")


def widen_state(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor],
                                                                                         list[str]]:
    """``state`` (an automatic model's) fitted to the shapes of ``own`` (a plate model's state dict): equal shapes
    are taken as they are; a plate input (``PLATE_INPUTS``) with more input channels (dim 1) than the saved one,
    all else equal, takes the saved weight in its first channels and zeros in the rest. Any other tensor of
    another shape is left out. Returns (fitted state, names widened)."""
    fitted, widened = {}, []
    for name, target in own.items():
        saved = state.get(name)
        if saved is None:
            continue
        if saved.shape == target.shape:
            fitted[name] = saved
        elif (name in PLATE_INPUTS and saved.ndim == target.ndim >= 2 and saved.shape[0] == target.shape[0]
              and saved.shape[2:] == target.shape[2:] and saved.shape[1] < target.shape[1]):
            wide = torch.zeros(target.shape, dtype=saved.dtype)
            wide[:, :saved.shape[1]] = saved
            fitted[name] = wide
            widened.append(name)
    return fitted, widened
