"""Clean-plate mode without the network: checking and preparing a plate, telling when it stops fitting, and
building one from frames (a capture, or a locked-off video's own frames).

Pure array code (OpenCV, numpy): the engine (``Matter.set_plate``) holds the state, the CLI and the window read
files and cameras.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np

from .errors import InputError

PLATE_CHANGED = "background changed: capture again"  # the status line's and the window's words
ASPECT_TOLERANCE = 0.02   # a plate of another size must have the frame's aspect within 2 %
PERSON_SHARE = 0.02       # a plate whose automatic matte covers more than 2 % of it still shows a person

# Mismatch detection: on a small blurred copy (noise, compression and a 1-3 px shift vanish there), each channel
# of the plate fitted to the frame by a gain and an offset (exposure, white balance, gamma drift), over the pixels
# the previous matte calls background. A pixel off by more than MISMATCH_LEVEL after the fit disagrees.
# Tuned on 30 held-out backgrounds at 640 px: their training-perturbed plates (150) disagree on at most 6 % of the
# pixels (99th percentile 4 %); a 20 px shift on 20 % (median; 20 of 30 over 15 %), 10 px on 7 %, a 2° turn on 4 %
# (a larger copy or less blur caught more of those, and then flagged perturbed plates as well).
MISMATCH_SIDE = 64          # long side of the small copy, px
MISMATCH_BLUR = 1.0         # its Gaussian blur, px (sigma)
MISMATCH_LEVEL = 0.08       # of full scale
CHANGED_SHARE, FITS_SHARE = 0.15, 0.08  # share of disagreeing background pixels: enter / leave "changed"
CHANGED_FRAMES, FITS_FRAMES = 2, 5       # frames in a row needed to enter / leave it (hysteresis)
MIN_BACKGROUND = 0.05       # fewer background pixels than this share: no judgement, the state stays
# A channel this bright (a window, a lamp, the sky) is clipped: its true value is at least what it shows. The gain and
# offset are fitted where neither picture is clipped (a clipped plate pulled the fit off: a plate taken 1/3 stop
# brighter of a bright scene disagreed on 40 % of the background), and a clipped channel is judged one-sided: it
# disagrees only when the other picture says it must be darker. The clipped masks are grown by a pixel, since the
# small copy's blur leaves a rim just under the threshold.
CLIPPED = 0.98
BLUR_RIM = 3      # px of the small copy a clipped or unknown area reaches into through the blur (3σ)
GAIN_PRIOR = 1e-4  # [0, 1]² units: a textured scene's variance is 0.01-0.05, a white wall's 1e-5


def check_plate(rgb) -> np.ndarray:
    """``rgb`` if it is an RGB uint8 H×W×3 array of at least 8×8, else ``InputError``."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError("a plate must be an RGB uint8 array of shape H×W×3, got "
                         f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
    if rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise InputError(f"a plate of {rgb.shape[1]}×{rgb.shape[0]} is too small (at least 8×8)")
    return rgb


def check_aspect(plate_shape: tuple[int, ...], frame_shape: tuple[int, ...]) -> None:
    """``InputError`` unless the plate has the frame's aspect (any size)."""
    (ph, pw), (fh, fw) = plate_shape[:2], frame_shape[:2]
    if abs((pw / ph) / (fw / fh) - 1) > ASPECT_TOLERANCE:
        raise InputError(f"the plate is {pw}×{ph} and the frames {fw}×{fh}: a plate must have the frame's aspect "
                         "(capture it again with this camera at this size)")


def small_copy(rgb: np.ndarray) -> np.ndarray:
    """The copy mismatch detection compares: long side ``MISMATCH_SIDE``, blurred, float32 in [0, 1]."""
    h, w = rgb.shape[:2]
    scale = MISMATCH_SIDE / max(h, w)
    size = (max(4, round(w * scale)), max(4, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return cv2.GaussianBlur(small, (0, 0), MISMATCH_BLUR)


def background_mask(alpha: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels of a (h, w) small copy that ``alpha`` (any size) calls background, kept two pixels off the person
    (edges, shadows, and a person who moved since)."""
    small = cv2.resize(alpha.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    person = (small > 0.05).astype(np.uint8)
    return cv2.dilate(person, np.ones((5, 5), np.uint8)) == 0


def _clipped(small: np.ndarray, grow: int = 1) -> np.ndarray:
    """Pixels of a small copy with a clipped channel, grown by ``grow`` pixels (the blur leaves a rim under
    ``CLIPPED``)."""
    kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    return cv2.dilate((small >= CLIPPED).astype(np.uint8), kernel) > 0


def fit_exposure(frame_small: np.ndarray, plate_small: np.ndarray,
                 background: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-channel (gain, offset) that maps the plate's colours onto the frame's (least squares over ``background``
    pixels where neither picture is clipped; float32 in [0, 1] units), or None when too few such pixels are left."""
    # The blur (σ MISMATCH_BLUR) spreads a clipped window about 3σ into its neighbours: such a rim, dimmed in one
    # picture and not the other, pulled a 1.2× plate's gain to 1.05.
    fit = ~(_clipped(frame_small, BLUR_RIM) | _clipped(plate_small, BLUR_RIM))[background].any(axis=1)
    if background.mean() < MIN_BACKGROUND or fit.mean() * background.mean() < MIN_BACKGROUND:
        return None
    f, p = frame_small[background][fit], plate_small[background][fit]  # n×3
    # Least squares per channel in closed form: gain = cov(p, f) / var(p), the offset through the means.
    pm, fm = p.mean(axis=0), f.mean(axis=0)
    var = ((p - pm) ** 2).mean(axis=0)
    cov = ((p - pm) * (f - fm)).mean(axis=0)
    # A flat plate fits anything by a zero gain: GAIN_PRIOR pulls a gain with little contrast to learn from toward 1.
    gain = np.clip((cov + GAIN_PRIOR) / (var + GAIN_PRIOR), 0.25, 4.0).astype(np.float32)
    offset = (fm - gain * pm).astype(np.float32)
    return gain, offset


def mismatch(frame_small: np.ndarray, plate_small: np.ndarray, background: np.ndarray,
             exposure: tuple[np.ndarray, np.ndarray] | None = None) -> float | None:
    """Share of ``background`` pixels whose colour disagrees with the plate after a per-channel gain and offset fit
    (``exposure``, fitted here when not given; clipped channels judged one-sided, see ``CLIPPED``); None when too
    few are left to judge."""
    if background.mean() < MIN_BACKGROUND:
        return None
    exposure = exposure if exposure is not None else fit_exposure(frame_small, plate_small, background)
    clipped_f, clipped_p = _clipped(frame_small)[background], _clipped(plate_small)[background]
    f, p = frame_small[background], plate_small[background]  # n×3
    fitted = p if exposure is None else exposure[0] * p + exposure[1]  # nothing to fit on: as the camera took it
    d = f - fitted
    # The frame brighter than the fit says counts unless the plate is clipped (then it may be brighter still); darker
    # counts unless the frame is clipped. With no fit the exposure is unknown (a plate white almost everywhere): only
    # a frame clipped where the plate is not counts (a white-out, a lamp switched on).
    brighter = ~clipped_p if exposure is not None else clipped_f & ~clipped_p
    darker = ~clipped_f if exposure is not None else np.zeros_like(clipped_f)
    residual = np.maximum(d, 0) * brighter + np.maximum(-d, 0) * darker
    return float((residual.max(axis=1) > MISMATCH_LEVEL).mean())


class PlateMonitor:
    """Whether the plate still fits, frame by frame, with hysteresis: ``CHANGED_FRAMES`` frames in a row over
    ``CHANGED_SHARE`` to say it changed, ``FITS_FRAMES`` in a row under ``FITS_SHARE`` to say it fits again."""

    def __init__(self, plate: np.ndarray, coverage: np.ndarray | None = None):
        self.plate_small = small_copy(plate)
        shape = self.plate_small.shape[:2]
        # An automatic plate is only compared where it is known (elsewhere it may show the person), and not within
        # the blur's reach of the unknown part.
        self.known = None
        if coverage is not None:
            known = cv2.resize(coverage.astype(np.float32), shape[::-1], interpolation=cv2.INTER_AREA) > 0.99
            self.known = cv2.erode(known.astype(np.uint8), np.ones((2 * BLUR_RIM + 1,) * 2, np.uint8)) > 0
        self.fits = True
        self.score: float | None = None
        self.exposure: tuple[np.ndarray, np.ndarray] | None = None  # the last fit over a matte's background
        self._small: np.ndarray | None = None  # the last frame's small copy, and its frame's width
        self._width = 1
        self._run = 0

    def update(self, frame: np.ndarray, alpha: np.ndarray | None, shift: tuple[float, float] = (0.0, 0.0)) -> bool:
        """Judge ``frame`` (any size of the plate's aspect) with ``alpha`` the previous matte (None: all
        background) and ``shift`` the plate's known shift in ``frame``'s pixels; returns whether the plate fits
        now."""
        small = cv2.resize(frame, self.plate_small.shape[1::-1], interpolation=cv2.INTER_AREA) \
            if frame.shape[:2] != self.plate_small.shape[:2] else frame
        small = small_copy(small) if small.dtype == np.uint8 else small
        self._small, self._width = small, frame.shape[1]
        bg, plate = self._background(alpha), self._plate(shift)
        exposure = fit_exposure(small, plate, bg)
        self.exposure = exposure if alpha is not None else None  # with no matte, the person is in the fit
        self.score = mismatch(small, plate, bg, exposure)
        if self.score is None:
            return self.fits
        leaving = self.score > CHANGED_SHARE if self.fits else self.score < FITS_SHARE
        self._run = self._run + 1 if leaving else 0
        if self._run >= (CHANGED_FRAMES if self.fits else FITS_FRAMES):
            self.fits, self._run = not self.fits, 0
        return self.fits

    def exposure_for(self, alpha: np.ndarray, shift: tuple[float, float] = (0.0, 0.0)) -> tuple | None:
        """The last frame's exposure fit over the background of ``alpha``, its matte (a first frame's, run once
        without the fit), with the plate moved by ``shift`` (that frame's pixels)."""
        if self._small is None:
            return None
        self.exposure = fit_exposure(self._small, self._plate(shift), self._background(alpha))
        return self.exposure

    def _plate(self, shift: tuple[float, float]) -> np.ndarray:
        # Moved as the model's copies are: a fit across a shift of fine texture flattens the gain (0.78 for 1).
        if shift == (0.0, 0.0):
            return self.plate_small
        k = self.plate_small.shape[1] / self._width
        m = np.float32([[1, 0, -shift[0] * k], [0, 1, -shift[1] * k]])
        return cv2.warpAffine(self.plate_small, m, self.plate_small.shape[1::-1], flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    def _background(self, alpha: np.ndarray | None) -> np.ndarray:
        shape = self.plate_small.shape[:2]
        bg = np.ones(shape, bool) if alpha is None else background_mask(alpha, shape)
        return bg if self.known is None else bg & self.known


def average_plate(frames: list[np.ndarray]) -> np.ndarray:
    """A captured plate: the mean of about a second of frames (less sensor noise than one)."""
    if not frames:
        raise InputError("no frames to make a plate from")
    return (np.mean(np.stack(frames).astype(np.float32), axis=0) + 0.5).astype(np.uint8)


def person_share(alphas: list[np.ndarray]) -> float:
    """The largest share of a frame that the automatic matte calls person, over ``alphas``."""
    return max((float((a > 0.5).mean()) for a in alphas), default=0.0)


def refuse_person(alphas: list[np.ndarray]) -> None:
    """``InputError`` when the automatic model still finds a person in the frames a plate is made of."""
    share = person_share(alphas)
    if share > PERSON_SHARE:
        raise InputError(f"the background still shows a person ({share:.0%} of the frame): step out of the "
                         "frame and capture again")


@dataclass
class AutoPlate:
    plate: np.ndarray      # H×W×3 uint8; where not covered, the frames' median (anything)
    coverage: np.ndarray   # H×W bool: pixels seen empty in enough frames
    frames_used: int

    @property
    def covered(self) -> float:
        return float(self.coverage.mean())


def build_auto_plate(frames: list[np.ndarray], alphas: list[np.ndarray], min_views: int = 3,
                     margin: int = 4) -> AutoPlate:
    """A plate from a locked-off clip's own frames: per pixel, the median of the frames where the automatic matte
    (``alphas``, any size) shows no person (kept ``margin`` px away from one). A pixel seen empty in fewer than
    ``min_views`` frames is not covered: there the engine falls back to the automatic model."""
    if not frames or len(frames) != len(alphas):
        raise InputError("an automatic plate needs frames and their mattes")
    h, w = frames[0].shape[:2]
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    stack = np.stack(frames).astype(np.float32)
    empty = np.stack([cv2.dilate((cv2.resize(a.astype(np.float32), (w, h)) > 0.05).astype(np.uint8), kernel) == 0
                      for a in alphas])
    views = empty.sum(axis=0)
    masked = np.where(empty[..., None], stack, np.nan)
    with warnings.catch_warnings():  # all-NaN pixels (never seen empty) are filled from the plain median
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(masked, axis=0)
    fallback = np.median(stack, axis=0)
    plate = np.where(np.isnan(median), fallback, median)
    return AutoPlate((plate + 0.5).astype(np.uint8), views >= min_views, len(frames))

