"""A narrower trained T-Net carried into a wider one, the matte unchanged (function-preserving widening).

Every channel the narrow net has keeps its weights in the wide one; each new channel gets the wide model's own
random weights on its way in and zeros on its way out (in every convolution that reads it), so at step 0 the wide
model gives exactly the narrow one's trimap and training then grows the new channels from the error. Adding
capacity this way keeps the hours of training the narrow net has had (Net2Net, Chen et al. 2016, widens by
copying channels; zero outgoing weights serve the same end with less bookkeeping). Pure tensor code: no I/O.
"""
from __future__ import annotations

import re

import torch

# An UpBlock's fuse convolutions see [upsampled input, skip] concatenated: a narrow channel past the input's count
# belongs to the skip, whose channels start after the wide input's.
_FUSE = re.compile(r"^tnet\.(dec\d)\.fuse\.(\d)\.")


def _channel_map(narrow: int, wide: int, split: tuple[int, int] | None) -> torch.Tensor:
    """Where each of ``narrow`` channels sits among ``wide``: the same index, or for a concatenation
    ``split`` = (narrow input channels, wide input channels) the skip's channels shifted past the wide input."""
    index = torch.arange(narrow)
    if split is not None:
        n_in, w_in = split
        index = torch.where(index < n_in, index, index - n_in + w_in)
    if narrow and int(index.max()) >= wide:
        raise ValueError(f"{narrow} channels do not fit in {wide}")
    return index


def _fuse_splits(narrow: dict[str, torch.Tensor], wide: dict[str, torch.Tensor]) -> dict[str, tuple[int, int]]:
    """Per decoder block ("dec4"...): (narrow, wide) channel counts of its upsampled input, read from the
    preceding block's output (the shapes of ``tnet.dec*.fuse.1.0.weight``, or enc4's for dec4)."""
    def out_channels(state, block):
        key = "tnet.enc4.2.block.2.0.weight" if block == "dec4" else f"tnet.dec{int(block[3]) + 1}.fuse.1.0.weight"
        return state[key].shape[0]
    blocks = {m.group(1) for k in wide if (m := _FUSE.match(k))}
    return {b: (out_channels(narrow, b), out_channels(wide, b)) for b in blocks}


def widen_tnet_state(narrow: dict[str, torch.Tensor], wide: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``wide`` (a wider model's state dict: its random init) with ``narrow``'s T-Net carried in; every other
    tensor of ``narrow`` with ``wide``'s shape is taken as it is. Raises ValueError when the T-Nets differ in more
    than width."""
    splits = _fuse_splits(narrow, wide)
    out = dict(wide)
    for name, target in wide.items():
        saved = narrow.get(name)
        if saved is None:
            raise ValueError(f"{name} is not in the narrower model")
        if saved.shape == target.shape:
            out[name] = saved.clone()
            continue
        if not name.startswith("tnet.") or saved.ndim != target.ndim or saved.shape[2:] != target.shape[2:]:
            raise ValueError(f"{name}: {tuple(saved.shape)} cannot widen to {tuple(target.shape)}")
        m = _FUSE.match(name)
        split = splits[m.group(1)] if m else None
        # fuse.0 is depthwise over the concatenation (its rows); fuse.1 reads the concatenation (its columns)
        rows = _channel_map(saved.shape[0], target.shape[0], split if m and m.group(2) == "0" else None)
        grown = target.clone()
        if saved.ndim == 4 and saved.shape[1] != target.shape[1]:  # a convolution reading new channels
            cols = _channel_map(saved.shape[1], target.shape[1], split if m and m.group(2) == "1" else None)
            grown[rows] = 0.0  # the old channels read nothing from the new ones...
            grown[rows[:, None], cols[None, :]] = saved  # ...and what they read before, as before
            # the new channels' own rows keep the random init: only the next layers' zero columns read them
        else:
            grown[rows] = saved
        out[name] = grown
    return out
