"""What the pipelines need from a matting engine, stated once.

``MatteEngine``: any model the offline, live, bench and eval paths run (``Matter``, a peer model, a test double).
``LiveEngine``: one the live session and the window run, which also follows the live settings and says what it is.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from .errors import SettingsError


@runtime_checkable
class MatteEngine(Protocol):
    """RGB uint8 H×W×3 in, alpha float32 H×W in [0, 1] out. Holds temporal state: one per stream."""

    timings: dict[str, float]  # the last call's seconds per stage (bench)

    def __call__(self, rgb: np.ndarray) -> np.ndarray: ...

    def reset(self) -> None:
        """Forget temporal state (a cut, another source)."""


class LiveEngine(MatteEngine, Protocol):
    """An engine the live settings steer: smoothing and quality change from the next frame."""

    @property
    def model_name(self) -> str: ...

    @property
    def trained(self) -> bool:
        """False when it runs on random weights (the window warns)."""

    def set_smoothing(self, mode: str, strength: float) -> None: ...

    def set_quality(self, quality: str) -> None:
        """Work at a live quality (livematte.config.QUALITY_SIZES); may take a second or two."""

    def set_plate(self, rgb: np.ndarray | None) -> None:
        """Clean-plate mode with this empty background (RGB uint8, the frames' aspect); None: automatic mode.
        Raises a ``LivematteError`` when the engine cannot use one."""

    @property
    def plate_status(self) -> str:
        """"off", "fits", or "changed" (the plate stopped fitting; automatic mode until it fits again)."""


class FixedEngine:
    """A ``MatteEngine`` run live as it is (a peer model in ``livematte bench``): the settings' smoothing and
    quality leave it unchanged."""

    trained = True

    def __init__(self, engine: MatteEngine, name: str):
        self.engine, self.model_name = engine, name

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return self.engine(rgb)

    @property
    def timings(self) -> dict[str, float]:
        return self.engine.timings

    def reset(self) -> None:
        self.engine.reset()

    def set_smoothing(self, mode: str, strength: float) -> None:
        pass

    def set_quality(self, quality: str) -> None:
        pass

    plate_status = "off"

    def set_plate(self, rgb: np.ndarray | None) -> None:
        if rgb is not None:
            raise SettingsError(f"{self.model_name} cannot use a clean plate")
