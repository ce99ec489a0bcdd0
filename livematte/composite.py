"""Backgrounds and compositing: small functions of uint8 arrays, done with OpenCV.

A background spec is one of: a colour (``green``, ``#00ff00``, ``0,255,0``), an image path, a video path
(looped), ``blur`` or ``blur:N`` (the frame's own background blurred with strength N, the person left out),
``transparent``, or ``none`` (the original frame: useful to preview the matte).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import InputError, SettingsError
from .resize import shrink

NAMED_COLOURS = {
    "green": (0, 177, 64), "blue": (0, 71, 187), "black": (0, 0, 0), "white": (255, 255, 255),
    "gray": (128, 128, 128), "grey": (128, 128, 128), "red": (220, 30, 30), "magenta": (255, 0, 255),
}
VIDEO_EXTENSIONS = {".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v", ".gif"}
OUTPUT_TYPES = ("composite", "alpha", "foreground", "rgba")


def parse_colour(spec: str) -> tuple[int, int, int] | None:
    s = spec.strip().lower()
    if s in NAMED_COLOURS:
        return NAMED_COLOURS[s]
    if s.startswith("#") and len(s) in (4, 7):
        h = s[1:] if len(s) == 7 else "".join(c * 2 for c in s[1:])
        try:
            return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
        except ValueError:
            return None
    parts = s.split(",")
    if len(parts) == 3 and all(p.strip().isdigit() and int(p) <= 255 for p in parts):
        return tuple(int(p) for p in parts)  # type: ignore[return-value]
    return None


def composite(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """out = α·F + (1-α)·B in uint8. foreground/background H×W×3 uint8, alpha H×W float32 in [0, 1]."""
    return cv2.blendLinear(foreground, background, alpha, 1.0 - alpha)


def to_rgba(foreground: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight (unpremultiplied) RGBA uint8."""
    a8 = cv2.convertScaleAbs(alpha, alpha=255.0)
    return np.dstack([foreground, a8])


def alpha_to_uint8(alpha: np.ndarray) -> np.ndarray:
    return cv2.convertScaleAbs(alpha, alpha=255.0)


def blur_background(frame: np.ndarray, strength: int = 12, work_scale: float = 0.25,
                    alpha: np.ndarray | None = None) -> np.ndarray:
    """Strong, cheap blur: Gaussian at a quarter of the size, upsampled (a blur hides the loss). With ``alpha``,
    a blur of the background alone: each pixel the weighted mean of the background pixels around it, the person
    weighted out, so none of the person's colours spreads around them (the halo of a plain blur)."""
    h, w = frame.shape[:2]
    sw, sh = max(1, int(w * work_scale)), max(1, int(h * work_scale))
    small = shrink(frame, (sw, sh))
    sigma = max(0.5, strength * work_scale)
    if alpha is None:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    else:
        weights = shrink(alpha.astype(np.float32, copy=False), (sw, sh))
        small = (_background_blur(small.astype(np.float32), weights, sigma) + 0.5).clip(0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _background_blur(small: np.ndarray, alpha: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised blur of ``small`` (float32 RGB) weighted by how surely each pixel is background. Deep inside a
    large person no background pixel is near: there a blur eight times wider fills in, then the mean of the whole
    background (or the plain blur when the frame holds no background at all)."""
    weight = np.clip(1.0 - 2.0 * alpha, 0.0, 1.0)  # soft edges count a little, the person (alpha > 0.5) not at all
    if weight.max() <= 0:
        return cv2.GaussianBlur(small, (0, 0), sigma)
    weighted = small * weight[..., None]
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    out = cv2.GaussianBlur(weighted, (0, 0), sigma) / np.maximum(den, 1e-3)[..., None]
    empty = den <= 1e-3
    if empty.any():  # the wider blur at an eighth of the size: as smooth, and 50x cheaper than at full
        h, w = weight.shape
        size = (max(1, w // 8), max(1, h // 8))
        wide_den = cv2.resize(cv2.GaussianBlur(shrink(weight, size), (0, 0), sigma), (w, h))
        wide = cv2.resize(cv2.GaussianBlur(shrink(weighted, size), (0, 0), sigma), (w, h))
        wide /= np.maximum(wide_den, 1e-3)[..., None]
        out[empty] = wide[empty]
        still = empty & (wide_den <= 1e-3)
        if still.any():
            out[still] = weighted.sum((0, 1)) / weight.sum()
    return out


def cover_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover size (W, H) and centre-crop: no bars, no distortion."""
    W, H = size
    h, w = image.shape[:2]
    s = max(W / w, H / h)
    nw, nh = max(W, round(w * s)), max(H, round(h * s))
    if s < 1:
        resized = shrink(image, (nw, nh))
    else:
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x, y = (nw - W) // 2, (nh - H) // 2
    return np.ascontiguousarray(resized[y:y + H, x:x + W])


class Background:
    """Renders the background for a frame; ``transparent`` means the output keeps an alpha channel."""

    transparent = False
    kind = "none"

    def render(self, frame: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
        """The background for ``frame``; ``alpha`` (the frame's matte) lets a blur leave the person out."""
        return frame

    def close(self) -> None:
        pass


class ColourBackground(Background):
    kind = "colour"

    def __init__(self, rgb: tuple[int, int, int]):
        self.rgb = rgb
        self._cache: np.ndarray | None = None

    def render(self, frame, alpha=None):
        if self._cache is None or self._cache.shape != frame.shape:
            self._cache = np.empty_like(frame)
            self._cache[:] = self.rgb
        return self._cache


class ImageBackground(Background):
    kind = "image"

    def __init__(self, path: Path):
        from .media import read_image

        self.path = path
        self.image = read_image(path)
        self._cache: np.ndarray | None = None

    def render(self, frame, alpha=None):
        if self._cache is None or self._cache.shape != frame.shape:
            self._cache = cover_resize(self.image, (frame.shape[1], frame.shape[0]))
        return self._cache


class VideoBackground(Background):
    """A video file, looped; one background frame per output frame."""

    kind = "video"

    def __init__(self, path: Path):
        from .media import VideoReader

        self.path = path
        VideoReader(path).close()  # fail now, with a clear message, if it is not a readable video
        self._iter = None
        self._size: tuple[int, int] | None = None

    def _next(self) -> np.ndarray:
        from .media import VideoReader

        for _ in range(2):
            if self._iter is None:
                self._reader = VideoReader(self.path)
                self._iter = iter(self._reader)
            frame = next(self._iter, None)
            if frame is not None:
                return frame.rgb
            self._reader.close()
            self._iter = None
        raise InputError(f"background video {self.path} has no frames")

    def render(self, frame, alpha=None):
        return cover_resize(self._next(), (frame.shape[1], frame.shape[0]))

    def close(self):
        if self._iter is not None:
            self._reader.close()
            self._iter = None


class BlurBackground(Background):
    kind = "blur"

    def __init__(self, strength: int = 12):
        self.strength = strength

    def render(self, frame, alpha=None):
        return blur_background(frame, self.strength, alpha=alpha)


class TransparentBackground(Background):
    kind = "transparent"
    transparent = True


def parse_background(spec: str | None) -> Background:
    """Turn a background spec into a Background; raise SettingsError/InputError with a clear message."""
    if spec is None or spec.strip().lower() in ("", "none", "original"):
        return Background()
    s = spec.strip()
    low = s.lower()
    if low == "transparent":
        return TransparentBackground()
    if low == "blur" or low.startswith("blur:"):
        value = low.partition(":")[2] or "12"
        if not value.isdigit() or not 1 <= int(value) <= 100:
            raise SettingsError(f"blur strength must be a whole number from 1 to 100, not {value!r}")
        return BlurBackground(int(value))
    rgb = parse_colour(s)
    if rgb is not None:
        return ColourBackground(rgb)
    path = Path(s).expanduser()
    if path.is_file():
        if path.suffix.lower() in VIDEO_EXTENSIONS:
            return VideoBackground(path)
        return ImageBackground(path)
    raise SettingsError(f"background {spec!r} is not a colour, blur[:N], transparent, none, or an existing "
                        "image or video file")


def render_output(frame: np.ndarray, alpha: np.ndarray, background: Background,
                  output_type: str = "composite") -> np.ndarray:
    """One output image for a frame: composite (RGB, or RGBA when the background is transparent),
    alpha (grey H×W), foreground (premultiplied over black, RGB) or rgba (foreground + alpha).
    Foreground colours are re-estimated where alpha is soft, so no fringe of the old background shows."""
    from .foreground import composite_decontaminated, decontaminate

    if output_type == "alpha":
        return alpha_to_uint8(alpha)
    if output_type == "rgba" or (output_type == "composite" and background.transparent):
        return to_rgba(decontaminate(frame, alpha), alpha)
    if output_type == "foreground":
        return composite_decontaminated(frame, alpha, np.zeros_like(frame))
    if output_type == "composite":
        if background.kind == "none":  # the original picture: nothing to replace, nothing to decontaminate
            return frame
        return composite_decontaminated(frame, alpha, background.render(frame, alpha))
    raise SettingsError(f"output type must be one of {', '.join(OUTPUT_TYPES)}, not {output_type!r}")
