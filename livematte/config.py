"""Engine configurations: what the matting engine runs with, named for where it runs.

``EngineConfig.offline()`` is what ``livematte video`` (and eval, and bench's file conversion) runs;
``EngineConfig.live(quality)`` what ``live``, ``ui`` and bench's live run start from. The command line changes only
the options it was given (``replace``), and the window's quality switch moves a live configuration to another
quality (``at_quality``). Pure data, checked on construction: nothing here loads a model.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingsError

SMOOTHING_MODES = ("none", "ema", "motion")  # livematte.smoothing implements them
MAX_STRENGTH = 0.95  # the most the settings and options offer; nearer 1 the matte would hardly follow the person
MAX_EDGE_PX = 20  # the edge controls' bound (feather, shrink), px; livematte.edges applies them

OFFLINE_MODEL = "shm"  # the steadier edges at the offline sizes (model card)
# Long side in px. shm's T-Net was last trained at 320 (model card).
TNET_SIZE, MNET_SIZE = 320, 384
# Offline, the T-Net runs at TNET_SIZE and each TNET_PASS_STEP px larger, its trimap logits averaged: steadier.
TNET_PASSES, TNET_PASS_STEP = 2, 32
# The frame is extended below by this share of its height, so that a body the frame cuts stays body (model card).
BOTTOM_CONTEXT = 0.1
TNET_SIZE_RANGE, MNET_SIZE_RANGE, TNET_PASSES_RANGE = (64, 2048), (64, 4096), (1, 8)
MAX_THREADS = 256  # more inference threads than any machine's cores only thrash (100000 exhausts memory)
UPSAMPLERS = ("guided", "bilinear")
BACKENDS = ("auto", "torch", "onnx")

# Live qualities: (T-Net, M-Net) sizes and model. "balanced" is bench's sweet spot on a 2-core CPU; "high" runs the
# offline sizes with shm, whose edges are steadier there; at live sizes shm-lite is the more accurate (model card).
QUALITY_SIZES = {"fast": (192, 192), "balanced": (256, 256), "high": (TNET_SIZE, MNET_SIZE)}
QUALITY_MODELS = {"fast": "shm-lite", "balanced": "shm-lite", "high": OFFLINE_MODEL}
QUALITIES = tuple(QUALITY_SIZES)
DEFAULT_QUALITY = "balanced"


@dataclass(frozen=True)
class EngineConfig:
    """Everything a ``Matter`` is built with; the defaults are the engine's own (offline, no temporal smoothing,
    as for photos)."""

    model: str = OFFLINE_MODEL
    weights: str | Path | None = "default"   # a weights file, "default" (the shipped ones) or None (random init)
    # Clean-plate mode's model (the plate preset of ``model``): "default" (the shipped file; random init when
    # ``weights`` is None), a weights file, or None (random init). Loaded only when a plate is set.
    plate_weights: str | Path | None = "default"
    device: str = "auto"                     # auto, cpu, cuda
    tnet_size: int = TNET_SIZE
    mnet_size: int = MNET_SIZE
    tnet_passes: int = TNET_PASSES
    smoothing: str = "none"                  # one of SMOOTHING_MODES
    smoothing_strength: float = 0.6
    upsample: str = "guided"
    threads: int | None = None               # inference threads; None or 0: one per core
    backend: str = "auto"
    int8_tnet: bool = False
    pixel_budget: bool = False               # at most a 16:9 frame's pixels (resize.working_size)
    bottom_context: float = BOTTOM_CONTEXT
    quality: str | None = None               # the live quality whose sizes these are; None: sizes of its own
    model_follows_quality: bool = False      # a quality switch also changes the model (live, unless one was named)

    def __post_init__(self):
        problem = _problem(self)
        if problem:
            raise SettingsError(problem)

    @classmethod
    def offline(cls) -> "EngineConfig":
        """Footage: ``livematte video``, ``eval`` and bench's file conversion."""
        return cls(smoothing="motion")

    @classmethod
    def live(cls, quality: str = DEFAULT_QUALITY) -> "EngineConfig":
        """A webcam in real time at ``quality``: the lite model, one T-Net pass, int8 T-Net, one inference thread
        (a core left to capture and composite), pixel budget."""
        return cls(smoothing="motion", tnet_passes=1, threads=1, int8_tnet=True, pixel_budget=True,
                   model_follows_quality=True).at_quality(quality)

    def replace(self, **changes) -> "EngineConfig":
        return dataclasses.replace(self, **changes)

    def at_quality(self, quality: str) -> "EngineConfig":
        """This configuration at live ``quality``: its sizes, and its model when the model follows quality."""
        if quality not in QUALITY_SIZES:
            raise SettingsError(f"quality must be one of {', '.join(QUALITIES)}, not {quality!r}")
        tnet, mnet = QUALITY_SIZES[quality]
        model = QUALITY_MODELS[quality] if self.model_follows_quality else self.model
        return self.replace(quality=quality, tnet_size=tnet, mnet_size=mnet, model=model)


def _problem(c: EngineConfig) -> str:
    """What is wrong with ``c``, as a message naming the setting ("" when all is well)."""
    (tlow, thigh), (mlow, mhigh), (plow, phigh) = TNET_SIZE_RANGE, MNET_SIZE_RANGE, TNET_PASSES_RANGE
    if c.model.endswith("-plate"):
        return f"{c.model} is a clean-plate model: run {c.model[:-len('-plate')]} and give it a plate"
    if c.backend not in BACKENDS:
        return f"backend must be one of {', '.join(BACKENDS)}, not {c.backend!r}"
    if c.upsample not in UPSAMPLERS:
        return f"upsample must be one of {', '.join(UPSAMPLERS)}, not {c.upsample!r}"
    if not tlow <= c.tnet_size <= thigh or not mlow <= c.mnet_size <= mhigh:
        return f"tnet_size must be in {tlow}..{thigh} and mnet_size in {mlow}..{mhigh}"
    if c.threads is not None and not 0 <= c.threads <= MAX_THREADS:
        return f"threads must be 0 (one per core) to {MAX_THREADS}, not {c.threads}"
    if not plow <= c.tnet_passes <= phigh:
        return f"tnet_passes must be in {plow}..{phigh}, not {c.tnet_passes}"
    if c.tnet_size + (c.tnet_passes - 1) * TNET_PASS_STEP > thigh:
        return f"the last T-Net pass would be over {thigh} px: lower tnet_size or tnet_passes"
    if not 0 <= c.bottom_context <= 1:
        return f"bottom_context must be in 0..1, not {c.bottom_context}"
    if c.smoothing not in SMOOTHING_MODES or not 0.0 <= c.smoothing_strength <= MAX_STRENGTH:
        return (f"smoothing must be one of {', '.join(SMOOTHING_MODES)} with a strength in 0..{MAX_STRENGTH}, "
                f"not {c.smoothing!r} at {c.smoothing_strength}")
    if c.quality is not None and c.quality not in QUALITY_SIZES:
        return f"quality must be one of {', '.join(QUALITIES)}, not {c.quality!r}"
    return ""


def parse_smoothing(spec: str) -> tuple[str, float]:
    """'none', 'ema', 'motion', optionally ':STRENGTH' (0..0.95), e.g. 'motion:0.6' -> ('motion', 0.6)."""
    mode, _, value = spec.partition(":")
    strength = 0.6
    if value:
        try:
            strength = float(value)
        except ValueError:
            raise SettingsError(f"smoothing strength must be a number, not {value!r}") from None
    if mode not in SMOOTHING_MODES or not 0.0 <= strength <= MAX_STRENGTH:
        raise SettingsError(f"smoothing must be none, ema[:S] or motion[:S] with S in 0..{MAX_STRENGTH}, "
                            f"not {spec!r}")
    return mode, strength
