"""Photos: one matte per picture, every output type asked for written through a partial file."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .composite import OUTPUT_TYPES, parse_background, render_output
from .config import EngineConfig
from .errors import OutputError, SettingsError
from .media import read_image, write_image
from .outputs import NO_EDGES, Edges, MatterSource, checked_image_output, get_matter, needs_alpha_channel
from .safewrite import SafeOutput


def render_image(input_path: str | os.PathLike, outputs: list[tuple[str, Path]], *, background: str | None = None,
                 matter: MatterSource = None, overwrite: bool = False, edges: Edges = NO_EDGES,
                 foreign_stale: bool = False) -> list[Path]:
    """Matte one photo once and write each (output type, path), each through a partial file."""
    input_path = Path(input_path)
    bg = parse_background(background)
    try:
        for t, out in outputs:
            if t not in OUTPUT_TYPES:
                raise SettingsError(f"output type must be one of {', '.join(OUTPUT_TYPES)}, not {t!r}")
            checked_image_output(input_path, Path(out), overwrite, needs_alpha_channel(t, bg))
        rgb = read_image(input_path)
        matter = get_matter(matter, EngineConfig())  # a photo: no temporal smoothing
        matter.reset()
        alpha = edges(matter(rgb))
        written = []
        for t, out in outputs:
            image = np.ascontiguousarray(render_output(rgb, alpha, bg, t))
            with SafeOutput(Path(out), foreign_stale=foreign_stale) as so:
                if not overwrite and Path(out).exists():
                    raise OutputError(f"{out} exists (use --overwrite to replace it)")
                write_image(so.partial, image)
                so.commit()
            written.append(Path(out))
        return written
    finally:
        bg.close()


def convert_image(input_path: str | os.PathLike, output: str | os.PathLike, *, background: str | None = None,
                  output_type: str = "rgba", matter: MatterSource = None, overwrite: bool = False,
                  edges: Edges = NO_EDGES) -> Path:
    return render_image(input_path, [(output_type, Path(output))], background=background, matter=matter,
                        overwrite=overwrite, edges=edges)[0]
