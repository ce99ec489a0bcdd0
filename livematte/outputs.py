"""What every writer checks before any work: output names, kinds and folders, and the settings shared by the
video and photo paths (edge controls, the engine to matte with)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

import numpy as np

from .composite import Background
from .config import EngineConfig
from .edges import refine_alpha
from .errors import OutputError
from .interfaces import MatteEngine
from .safewrite import check_name
from .writers import output_kind, png_sequence_files, png_sequence_target, supports_alpha

DEFAULT_EXTENSION = {"composite": ".mp4", "alpha": ".mp4", "foreground": ".mp4", "rgba": ".mov"}


def needs_alpha_channel(output_type: str, background: Background) -> bool:
    return output_type == "rgba" or (output_type == "composite" and background.transparent)


def default_output(input_path: Path, output_type: str, background: Background) -> Path:
    suffix = ".mov" if needs_alpha_channel(output_type, background) else DEFAULT_EXTENSION[output_type]
    label = "transparent" if background.transparent and output_type == "composite" else output_type
    return input_path.with_name(f"{input_path.stem}_{label}{suffix}")


def check_output(input_path: Path, output: Path, overwrite: bool, alpha_channel: bool = False,
                 create_folders: bool = False) -> str:
    """Validate an output before any work; return its kind ('video' or 'png-sequence').

    Refuses the input itself, an existing output without ``overwrite``, a folder where a file would go, a format
    that cannot carry the alpha channel asked for, a name too long, and a missing or unwritable folder
    (``create_folders``: a missing one is fine when what exists of its path is folders)."""
    check_name(output)
    try:
        same_file = output.exists() and input_path.exists() and os.path.samefile(output, input_path)
    except OSError as exc:
        raise OutputError(f"cannot use {output}: {exc.strerror}") from None
    if same_file or output.resolve() == input_path.resolve():
        raise OutputError(f"output {output} is the input file: choose another name")
    kind = output_kind(output)
    if alpha_channel and not supports_alpha(output):
        raise OutputError(f"{output.suffix} cannot carry transparency: use .mov, .webm or a PNG sequence")
    if kind == "png-sequence":
        folder = png_sequence_target(output)[0]
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} exists and is not a folder")
        if png_sequence_files(output) and not overwrite:
            raise OutputError(f"{folder} already holds frames of this sequence (use --overwrite to replace them)")
    elif output.is_dir():
        raise OutputError(f"{output} is a folder: a {output.suffix} output needs a file name (or another -o)")
    elif output.exists() and not overwrite:
        raise OutputError(f"{output} exists (use --overwrite to replace it)")
    check_folder(output.parent, create_folders)
    return kind


def check_folder(folder: Path, create: bool = False) -> None:
    """``folder`` is one to write in: it exists and is writable, or (``create``) can be made: every part of its path
    that exists is a folder."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        if existing.is_symlink():  # a dangling link
            raise OutputError(f"{existing} is a broken link")
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{existing} is a file, not a folder: cannot write in {folder}")
    if existing != folder and not create:
        raise OutputError(f"output folder does not exist: {folder}")
    if not os.access(existing, os.W_OK):
        raise OutputError(f"output folder is not writable: {existing}")


def checked_output(input_path: Path, output: Path, overwrite: bool, alpha: bool, create_folders: bool = False) -> str:
    """``check_output``, with what the file system refuses to look at (a name too long in a folder's part of the
    path, a loop of links) told as an OutputError."""
    try:
        return check_output(input_path, output, overwrite, alpha, create_folders)
    except OSError as exc:
        raise OutputError(f"cannot use {output}: {exc.strerror or exc}") from None


IMAGE_OUTPUTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def checked_image_output(input_path: Path, out: Path, overwrite: bool, alpha: bool, create: bool = False) -> None:
    try:
        check_name(out)
        if out.suffix.lower() not in IMAGE_OUTPUTS:
            raise OutputError(f"unsupported image output {out.name!r}: use .png (or .jpg without transparency)")
        if alpha and out.suffix.lower() in (".jpg", ".jpeg", ".bmp"):
            raise OutputError(f"{out.suffix} cannot carry transparency: use .png")
        if out.is_dir():
            raise OutputError(f"{out} is a folder: an image output needs a file name")
        if out.exists() and input_path.exists() and os.path.samefile(out, input_path):
            raise OutputError(f"output {out} is the input file")
        if out.exists() and not overwrite:
            raise OutputError(f"{out} exists (use --overwrite to replace it)")
        check_folder(out.parent, create)
    except OSError as exc:
        raise OutputError(f"cannot use {out}: {exc.strerror or exc}") from None


MatterSource = Union[MatteEngine, Callable[[], MatteEngine], None]


def get_matter(matter: MatterSource, default: EngineConfig) -> MatteEngine:
    """A matting engine (a Matter, a peer model), a factory of one (called only once the inputs are known to be
    good), or None for a Matter of ``default``."""
    if matter is None:
        from .engine import Matter  # torch: only when an engine is built

        return Matter(default)
    return matter if isinstance(matter, MatteEngine) else matter()


@dataclass(frozen=True)
class Edges:
    """The edge controls of live (``livematte.edges``), applied to every frame's matte before rendering."""

    shrink: int = 0
    feather: int = 0
    threshold: float = 0.0

    def __call__(self, alpha: np.ndarray) -> np.ndarray:
        return refine_alpha(alpha, self.shrink, self.feather, self.threshold) if self != NO_EDGES else alpha


NO_EDGES = Edges()
