"""Clean-plate mode's alignment: the plate moved and coloured onto each frame before the plate model sees it.

Pure array code (OpenCV, numpy); ``livematte.plate`` fits the exposure (``fit_exposure``, in the mismatch check), and
the engine holds a ``PlateAligner`` per stream.
"""
from __future__ import annotations

import cv2
import numpy as np

from .plate import CLIPPED, background_mask

# Alignment (the engine's, before the plate model sees the plate): the plate moved onto the frame by the shift phase
# correlation finds, and its colours mapped by ``fit_exposure``'s gain and offset. The model was trained on plates
# with such drift, yet lost limbs on drifted plates (model card: aligned, the held-out plate composites' SAD fell by
# a tenth).
SHIFT_SIDE = 256        # long side of the grey copies phase correlation compares, px (a DFT of 256×192 is cheap)
MAX_SHIFT = 0.02        # a larger shift (of the long side) is not a nudge: no shift (the monitor judges the rest)
SHIFT_BACKGROUND = 0.3  # with less background than this share, the shift is not estimated (80 % person: 1.5 px off)
ALIGN_FOLLOW = 0.2      # in a stream, the weight of each frame's new estimate (the engine follows them smoothly)
# In a stream the shift is estimated again every SHIFT_EVERY frames (a nudge is rare, and a phase correlation costs
# about a millisecond at live sizes on a laptop core), and the aligned copies are made again only when the alignment
# moved by more than ALIGN_STILL (px, gain, offset).
SHIFT_EVERY = 10
ALIGN_STILL = (0.1, 0.005, 0.002)


def estimate_shift(frame: np.ndarray, plate: np.ndarray,
                   alpha: np.ndarray | None = None) -> tuple[float, float] | None:
    """(dx, dy) in ``frame`` pixels by which ``plate`` (RGB uint8, the frame's aspect, any size) is displaced from
    ``frame``, by phase correlation of grey copies of at most ``SHIFT_SIDE`` px; (0, 0) beyond ``MAX_SHIFT``.
    ``alpha`` (a matte of the frame, any size; 1 also where the plate is unknown): the person is flattened to the
    background's mean grey first, so that only the background is compared (a bright person pulled the estimate by
    pixels); None when less than ``SHIFT_BACKGROUND`` of the frame is background (too little to tell)."""
    h, w = frame.shape[:2]
    scale = min(1.0, SHIFT_SIDE / max(h, w))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))

    def grey(rgb):
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if rgb.shape[1::-1] != size else rgb
        return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)

    seen = grey(frame)
    if alpha is not None:  # not the plate's pixels there: they would pull the estimate toward no shift
        person = ~background_mask(alpha, seen.shape)
        if 1 - person.mean() < SHIFT_BACKGROUND:
            return None
        seen[person] = seen[~person].mean()
    (dx, dy), _ = cv2.phaseCorrelate(seen, grey(plate), cv2.createHanningWindow(size, cv2.CV_32F))
    dx, dy = dx * w / size[0], dy * h / size[1]
    if max(abs(dx), abs(dy)) > MAX_SHIFT * max(h, w):
        return 0.0, 0.0
    return float(dx), float(dy)


def not_background(alpha: np.ndarray | None, unknown: np.ndarray | None) -> np.ndarray | None:
    """What the shift estimate must not compare: the person (``alpha``, a matte) and, for an automatic plate, where
    the plate is not known (``unknown``, 1 there; the same size)."""
    if unknown is None or alpha is None:
        return alpha if unknown is None else unknown
    return np.maximum(alpha, unknown)


def alignments_close(a: tuple, b: tuple) -> bool:
    """Whether two (shift, exposure) alignments make the same plate to within ``ALIGN_STILL`` (px, gain, offset):
    the engine then keeps the copies it made (aligning them costs about a millisecond a frame at live sizes)."""
    (sa, ea), (sb, eb) = a, b
    dpx, dgain, doffset = ALIGN_STILL
    if max(abs(sa[0] - sb[0]), abs(sa[1] - sb[1])) > dpx or (ea is None) != (eb is None):
        return False
    return ea is None or (np.abs(ea[0] - eb[0]).max() <= dgain and np.abs(ea[1] - eb[1]).max() <= doffset)


def align_plate(plate: np.ndarray, shift: tuple[float, float],
                exposure: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """``plate`` (RGB uint8) moved back by ``shift`` (its pixels) and mapped by ``exposure`` (gain, offset; None: as
    it is)."""
    out = plate
    if shift != (0.0, 0.0):
        m = np.float32([[1, 0, -shift[0]], [0, 1, -shift[1]]])
        out = cv2.warpAffine(out, m, out.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if exposure is not None:  # a table per channel: a sixth of the time of the arithmetic on the image
        gain, offset = exposure
        levels = np.arange(256, dtype=np.float32)[:, None]
        table = np.clip(levels * gain[None] + offset[None] * 255 + 0.5, 0, 255).astype(np.uint8)
        table[levels[:, 0] >= CLIPPED * 255] = 255  # clipped is "at least this bright": it stays white
        out = cv2.LUT(out, table[None])
    return out


class PlateAligner:
    """The alignment of one stream's plate (``estimate_shift``, ``fit_exposure``), followed in time: a stream's first
    estimate as it is, then each new one weighted ``ALIGN_FOLLOW`` (a steady plate, not one that trembles with the
    estimate); the shift estimated every ``SHIFT_EVERY`` frames, the aligned copies kept while the alignment stays
    within ``ALIGN_STILL``."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.alignment: tuple | None = None  # (shift, exposure) the copies are aligned by
        self._age = 0                        # frames since the shift was estimated
        self._made: tuple | None = None      # (plate copy, alignment, aligned copies) last made
        self._shape: tuple | None = None     # (h, w) of the working copy the shift is measured in

    @property
    def current_shift(self) -> tuple[float, float]:
        """The shift the copies are aligned by, in the working copy's pixels ((0, 0) before any)."""
        return self.alignment[0] if self.alignment is not None else (0.0, 0.0)

    def shift(self, frame: np.ndarray, plate: np.ndarray, alpha: np.ndarray | None,
              copy_shape: tuple[int, int]) -> tuple[float, float]:
        """The shift for this frame in the pixels of the working copy of ``copy_shape`` (h, w; the frame's rows of
        the M-Net copy): estimated (``estimate``) at a stream's start and every ``SHIFT_EVERY`` frames, else the one
        followed so far."""
        if copy_shape != self._shape:  # other working sizes: a shift in the old copy's pixels means nothing here
            self.reset()
            self._shape = copy_shape
        if self.alignment is None or self._age + 1 >= SHIFT_EVERY:
            return self.estimate(frame, plate, alpha)
        self._age += 1
        return self.current_shift

    def estimate(self, frame: np.ndarray, plate: np.ndarray, alpha: np.ndarray | None) -> tuple[float, float]:
        """A new estimate (``estimate_shift`` on ``frame``, full size, and ``plate``; ``alpha``: a matte of the
        frame) in the working copy's pixels, or, with too little background, the one followed so far."""
        self._age = 0
        found = estimate_shift(frame, plate, alpha)
        if found is None:
            return self.current_shift
        (h, w), (ch, cw) = frame.shape[:2], self._shape
        return found[0] * cw / w, found[1] * ch / h

    def copies(self, plate_m: np.ndarray, plates_t: list[np.ndarray], shift: tuple[float, float],
               exposure: tuple | None, fresh: bool = False) -> tuple:
        """The plate's M-Net copy and T-Net copies aligned to this frame by ``shift`` (in the M-Net copy's pixels)
        and ``exposure`` (None: the one followed so far, if any); ``fresh``: taken as they are, not followed."""
        if self.alignment is not None and not fresh:
            (sx, sy), old = self.alignment
            k = ALIGN_FOLLOW
            shift = (sx + k * (shift[0] - sx), sy + k * (shift[1] - sy))
            if old is not None:
                exposure = old if exposure is None else tuple(o + k * (e - o) for o, e in zip(old, exposure))
        self.alignment = shift, exposure
        if self._made is not None and self._made[0] is plate_m and alignments_close(self._made[1], self.alignment):
            return self._made[2]  # a steady stream: the copies made a few frames ago still hold
        mh, mw = plate_m.shape[:2]
        scale = [(p.shape[1] / mw, p.shape[0] / mh) for p in plates_t]  # a T-Net copy's sides are rounded apart
        copies = (align_plate(plate_m, shift, exposure),
                  [align_plate(p, (shift[0] * sx, shift[1] * sy), exposure) for p, (sx, sy) in zip(plates_t, scale)])
        self._made = plate_m, self.alignment, copies
        return copies
