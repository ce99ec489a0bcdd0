"""Writing the results: video files (H.264, ProRes 4444, VP9, with the input's audio) and PNG sequences.

Timestamps travel from input to output unchanged (the output stream uses the input's time base and each
frame keeps its pts), so 30000/1001 stays 30000/1001 and variable frame rate stays variable. Audio
packets are copied through untouched where the container allows the codec, re-encoded otherwise.
"""
from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .errors import OutputError
from .media import write_image
from .sequences import check_pattern, pattern_regex

VIDEO_FORMATS = {  # extension -> (codec, pixel format without alpha, pixel format with alpha, options)
    ".mp4": ("libx264", "yuv420p", None, {"crf": "18", "preset": "veryfast"}),
    ".m4v": ("libx264", "yuv420p", None, {"crf": "18", "preset": "veryfast"}),
    ".mov": ("prores_ks", "yuv444p10le", "yuva444p10le", {"profile": "4", "vendor": "apl0"}),
    ".webm": ("libvpx-vp9", "yuv420p", "yuva420p", {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8",
                                                    "row-mt": "1"}),
}
AUDIO_COPY_OK = {  # container extension -> audio codecs it can carry as they are
    ".mp4": {"aac", "mp3", "alac", "ac3", "opus"}, ".m4v": {"aac", "mp3", "alac", "ac3"},
    ".mov": {"aac", "mp3", "alac", "pcm_s16le", "pcm_s24le", "ac3"},
    ".webm": {"opus", "vorbis"},
}
AUDIO_REENCODE = {".webm": "libopus", ".mp4": "aac", ".m4v": "aac", ".mov": "aac"}


def output_kind(path: Path) -> str:
    """'video' (by extension), 'png-sequence' (folder or %d pattern, the pattern checked)."""
    s = str(path)
    if path.suffix.lower() in VIDEO_FORMATS and not path.is_dir():
        return "video"  # a % in a video's name is only a character
    if "%" in path.name:
        if path.suffix.lower() != ".png":
            raise OutputError(f"image-sequence pattern must end in .png: {path}")
        check_pattern(path.name, "output pattern")
        return "png-sequence"
    if path.suffix.lower() in VIDEO_FORMATS:
        return "video"
    if path.suffix == "" or s.endswith(os.sep) or path.is_dir():
        return "png-sequence"
    raise OutputError(f"unsupported output extension {path.suffix!r}: use .mp4, .mov, .webm, "
                      "a folder, or a %05d.png pattern")


def png_sequence_target(path: Path) -> tuple[Path, str]:
    """(folder, printf pattern) of a PNG-sequence output: a folder gets ``%05d.png`` files."""
    return (path.parent, path.name) if "%" in path.name else (path, "%05d.png")


def png_sequence_files(path: Path) -> list[Path]:
    """The files already in place that a PNG-sequence output at ``path`` would write (names matching its pattern)."""
    folder, pattern = png_sequence_target(path)
    if not folder.is_dir():
        return []
    regex = pattern_regex(pattern)
    return sorted(p for p in folder.iterdir() if regex.match(p.name))


def replace_png_sequence(partial: Path, path: Path) -> None:
    """Move a finished sequence from the folder ``partial`` to the output ``path``, then delete ``partial`` and the
    older frames that the new sequence does not have (the tail of a longer run). Frame by frame, each with
    ``os.replace``, so every frame name holds a whole picture at any moment."""
    folder, pattern = png_sequence_target(path)
    new = png_sequence_files(partial / pattern)
    try:
        folder.mkdir(exist_ok=True)
        old = png_sequence_files(path)
        for frame in new:
            os.replace(frame, folder / frame.name)
        names = {frame.name for frame in new}
        for frame in old:
            if frame.name not in names:
                frame.unlink()
        shutil.rmtree(partial)
    except OSError as exc:
        raise OutputError(f"cannot move the new frames from {partial} into {folder}: {exc.strerror}") from None


def supports_alpha(path: Path) -> bool:
    kind = output_kind(path)
    return kind == "png-sequence" or VIDEO_FORMATS[path.suffix.lower()][2] is not None


class VideoWriter:
    """Encode RGB or RGBA frames into a container chosen by extension, keeping the input's timing,
    and interleave the input's audio (copied, or re-encoded where the container needs it)."""

    def __init__(self, path: Path, width: int, height: int, time_base: Fraction, rate: Fraction | None,
                 alpha: bool, audio_from: Path | None = None):
        ext = path.suffix.lower()
        codec, pix, pix_alpha, options = VIDEO_FORMATS[ext]
        if alpha and pix_alpha is None:
            raise OutputError(f"{ext} cannot carry an alpha channel: use .mov (ProRes 4444), .webm (VP9) "
                              "or a PNG sequence")
        self.path = path
        pix = pix_alpha if alpha else pix
        if codec == "libx264" and (width % 2 or height % 2):  # 4:2:0 needs even sizes; 4:4:4 does not
            pix, options = "yuv444p", {**options, "profile": "high444"}
        try:
            self.container = av.open(str(path), mode="w")
        except (av.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot create {path}: {exc}") from None
        self.stream = self.container.add_stream(codec, rate=rate or Fraction(30, 1), options=dict(options))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, pix
        self.stream.time_base = time_base
        self.stream.codec_context.time_base = time_base
        if ext == ".webm" and alpha:
            self.stream.options = {**self.stream.options, "auto-alt-ref": "0"}
        self._time_base = time_base  # the muxer may change stream.time_base (Matroska: 1/1000) at the header
        self._frame_format = "rgba" if alpha else "rgb24"
        self._last_pts: int | None = None
        self._frame_step = max(1, round(1 / ((rate or Fraction(30)) * time_base)))  # one frame, in ticks
        self._audio = _AudioPassThrough(audio_from, self.container, ext) if audio_from else None
        self.frames_written = 0

    def write(self, image: np.ndarray, pts: int | None = None) -> None:
        """``image``: H×W×3 RGB, H×W×4 RGBA (alpha writers) or H×W grey (an alpha matte as a picture)."""
        frame = av.VideoFrame.from_ndarray(image, format="gray" if image.ndim == 2 else self._frame_format)
        last = self._last_pts
        if pts is None:  # no timestamp: one frame after the last
            pts = 0 if last is None else last + self._frame_step
        elif last is not None and pts <= last:  # out of order or repeated: keep the stream strictly increasing
            pts = last + 1
        frame.pts = self._last_pts = pts
        frame.time_base = self._time_base
        try:
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
            if self._audio:
                self._audio.mux_until(float(pts * self._time_base))
        except av.FFmpegError as exc:
            raise _write_error(self.path, exc) from None
        self.frames_written += 1

    def close(self, complete: bool = True) -> None:
        """Flush the encoder and finalize the container (also after an interruption: the file plays). An
        incomplete file (``complete=False``: interrupted) gets the audio of the video it holds, not all of it."""
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
            if self._audio:
                end = None
                if not complete and self._last_pts is not None:
                    end = float((self._last_pts + self._frame_step) * self._time_base)
                self._audio.finish(end)
        except av.FFmpegError as exc:
            raise _write_error(self.path, exc) from None
        finally:
            if self._audio:
                self._audio.close()
            try:
                self.container.close()
            except av.FFmpegError as exc:
                raise _write_error(self.path, exc) from None


def _write_error(path: Path, exc: Exception) -> OutputError:
    msg = str(exc)
    if "No space" in msg or getattr(exc, "errno", None) == 28:
        return OutputError(f"disk full while writing {path}")
    return OutputError(f"cannot write {path}: {msg}")


def encodable_layout(codec: str, layout, rate: int) -> str:
    """``layout``'s name where the encoder takes it as it is, else stereo (mono for one channel): a layout the
    encoder refuses (AAC and 2.1 or 6.0, say) is downmixed, never a reason to refuse the file."""
    channels = len(layout.channels)
    if channels <= 2:
        return "mono" if channels == 1 else "stereo"
    ctx = av.codec.CodecContext.create(codec, "w")
    try:
        ctx.layout, ctx.sample_rate, ctx.format = layout.name, rate, ctx.codec.audio_formats[0]
        ctx.open()
        return layout.name
    except (av.FFmpegError, ValueError):
        return "stereo"


class _AudioPassThrough:
    """Demux the input's first audio stream in step with the video and mux it into the output."""

    def __init__(self, source: Path, out, ext: str):
        self.input = av.open(str(source))
        self.in_stream = self.input.streams.audio[0] if self.input.streams.audio else None
        self.done = self.in_stream is None
        self._pending = None  # a packet read ahead, past the video time muxed so far
        if self.done:
            return
        self.copy = self.in_stream.codec_context.name in AUDIO_COPY_OK[ext]
        if self.copy:
            self.out_stream = out.add_stream_from_template(self.in_stream)
        else:
            codec, rate = AUDIO_REENCODE[ext], 48000 if ext == ".webm" else self.in_stream.codec_context.sample_rate
            self.out_stream = out.add_stream(codec, rate=rate)
            self.out_stream.layout = encodable_layout(codec, self.in_stream.codec_context.layout, rate)
            self.resampler = av.AudioResampler(format=self.out_stream.codec_context.format,
                                               layout=self.out_stream.layout, rate=self.out_stream.rate)
        self.out = out
        self.packets = self.input.demux(self.in_stream)

    def mux_until(self, t: float | None) -> None:
        while not self.done:
            if self._pending is not None:
                packet, self._pending = self._pending, None
            else:
                packet = next(self.packets, None)
                if packet is None:
                    self._flush()
                    self.done = True
                    return
                if packet.dts is None and packet.size == 0:
                    continue
            if t is not None and packet.pts is not None and float(packet.pts * packet.time_base) > t:
                self._pending = packet
                return
            self._mux(packet)

    def _mux(self, packet) -> None:
        if self.copy:
            packet.stream = self.out_stream
            self.out.mux(packet)
            return
        for frame in packet.decode():
            for rframe in self.resampler.resample(frame):
                rframe.pts = None
                for p in self.out_stream.encode(rframe):
                    self.out.mux(p)

    def finish(self, t: float | None) -> None:
        """Mux what is left up to ``t`` seconds (None: all of it) and flush the encoder."""
        self.mux_until(t)
        if not self.done:
            self._flush()
            self.done = True

    def _flush(self) -> None:
        if not self.copy:
            for p in self.out_stream.encode(None):
                self.out.mux(p)

    def close(self) -> None:
        self.input.close()


class PngSequenceWriter:
    """One PNG per frame: ``folder/00000.png`` or a ``name_%05d.png`` pattern."""

    def __init__(self, path: Path):
        self.folder, self.pattern = png_sequence_target(path)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create folder {self.folder}: {exc.strerror}") from None
        self.frames_written = 0

    def write(self, image: np.ndarray, pts: int | None = None) -> None:
        write_image(self.folder / (self.pattern % self.frames_written), image)
        self.frames_written += 1

    def close(self, complete: bool = True) -> None:
        pass


def open_writer(path: Path, width: int, height: int, time_base: Fraction, rate: Fraction | None, alpha: bool,
                audio_from: Path | None):
    if output_kind(path) == "png-sequence":
        return PngSequenceWriter(path)
    return VideoWriter(path, width, height, time_base, rate, alpha, audio_from)
