"""Input the user expects to come out right: phone photos' EXIF orientation, non-square pixels, interlaced video,
damaged frames, audio layouts an encoder cannot take as they are, audio of an interrupted conversion."""
import struct

import cv2
import numpy as np
import pytest

from livematte.media import exif_orientation, read_image


def _jpeg_with_orientation(path, image, orientation, byte_order="MM"):
    """A JPEG whose EXIF APP1 holds just the orientation tag."""
    e = ">" if byte_order == "MM" else "<"
    ifd = (byte_order.encode() + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", 1)
           + struct.pack(e + "HHI", 0x0112, 3, 1) + struct.pack(e + "HH", orientation, 0) + struct.pack(e + "I", 0))
    app1 = b"Exif\0\0" + ifd
    data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 100])[1].tobytes()
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:])
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("byte_order", ["MM", "II"])
def test_photos_are_turned_upright_as_their_exif_says(tmp_path, orientation, byte_order):
    bgr = np.zeros((40, 80, 3), np.uint8)
    bgr[:20, :30] = (255, 0, 0)  # marks in two corners: any wrong turn or mirror shows
    bgr[20:, 60:] = (0, 255, 0)
    path = _jpeg_with_orientation(tmp_path / "phone.jpg", bgr, orientation, byte_order)
    assert exif_orientation(path) == orientation
    upright = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)  # OpenCV's own reading
    got = read_image(path)
    assert got.shape == upright.shape and np.abs(got.astype(int) - upright).max() <= 2


def test_images_without_exif_or_not_jpeg_are_read_as_stored(tmp_path):
    png = tmp_path / "a.png"
    cv2.imwrite(str(png), np.zeros((10, 20, 3), np.uint8))
    assert exif_orientation(png) == 1 and read_image(png).shape == (10, 20, 3)
    broken = tmp_path / "b.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe1\x00\x10Exif\0\0II*\0\xff\xff\xff\xff")  # an offset past the end
    assert exif_orientation(broken) == 1


def _write_clip(path, frames=15, size=(64, 48), options=None, sar=None, image=None, audio_layout=None,
                audio_seconds=None, container_audio="pcm_s16le"):
    """A small H.264 clip: ``sar`` sets non-square pixels, ``image(i)`` gives frame i, ``audio_layout`` adds PCM
    audio of that layout (``audio_seconds`` long, default as long as the video)."""
    import av
    from clips import frame_image

    width, height = size
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        if sar:
            v.codec_context.sample_aspect_ratio = sar
        v.options = {"crf": "10", "preset": "ultrafast", "bf": "0", **(options or {})}
        a = None
        if audio_layout:
            a = c.add_stream(container_audio, rate=48000)
            a.layout = audio_layout
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(image(i) if image else frame_image(i, width, height), format="rgb24")
            f.pts = i
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        if a is not None:
            n = int(48000 * (audio_seconds or frames / 25))
            channels = len(a.layout.channels)
            for start in range(0, n, 1024):
                count = min(1024, n - start)
                samples = np.random.default_rng(start).normal(0, 2000, (1, count * channels)).astype(np.int16)
                af = av.AudioFrame.from_ndarray(samples, format="s16", layout=audio_layout)
                af.sample_rate, af.pts = 48000, start
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


def _durations(path):
    import av

    with av.open(str(path)) as c:
        video = c.streams.video[0]
        last = max(f.pts for f in c.decode(video))
        video_end = float((last + 1) * video.time_base) if video.average_rate is None else \
            float(last * video.time_base) + 1 / float(video.average_rate)
    with av.open(str(path)) as c:
        audio = c.streams.audio[0]
        audio_end = max(float((p.pts + p.duration) * p.time_base) for p in c.demux(audio) if p.size)
    return video_end, audio_end


def test_non_square_pixels_are_resampled_to_the_display_aspect(tmp_path, tiny_matter):
    from fractions import Fraction

    from livematte.media import VideoReader
    from livematte.offline import convert_video

    src = _write_clip(tmp_path / "anamorphic.mp4", frames=4, sar=Fraction(4, 3))  # 64x48 shown as 16:9
    reader = VideoReader(src)
    shapes = {f.rgb.shape for f in reader}
    assert shapes == {(48, 86, 3)} and (reader.info.width, reader.info.height) == (86, 48)
    assert any("non-square" in n for n in reader.notes)
    result = convert_video(src, tmp_path / "out.mp4", matter=tiny_matter, progress=False)
    import av

    with av.open(str(result.output)) as c:
        v = c.streams.video[0]
        assert (v.width, v.height) == (86, 48) and (v.sample_aspect_ratio or 1) == 1
    assert any("non-square" in n for n in result.notes)


def test_interlaced_frames_come_out_without_combing(tmp_path):
    from livematte.media import VideoReader

    def combed(i):
        img = np.full((48, 64, 3), 40, np.uint8)
        img[::2] = 220  # two fields of different pictures: a moving edge combs
        return img

    src = _write_clip(tmp_path / "interlaced.mp4", frames=3, image=combed,
                      options={"flags": "+ildct+ilme", "x264-params": "interlaced=1:tff=1"})
    reader = VideoReader(src)
    frames = [f.rgb for f in reader]
    rows = frames[0][4:44, 32, 0].astype(int)
    assert np.abs(np.diff(rows)).max() < 30  # no line-to-line combing (it was 180)
    assert reader.info.interlaced and any("deinterlaced" in n for n in reader.notes)


def test_a_damaged_first_keyframe_is_skipped_and_counted(tmp_path, tiny_matter):
    import av

    from livematte.media import VideoReader
    from livematte.offline import convert_video

    src = _write_clip(tmp_path / "gop.mp4", options={"g": "5", "keyint_min": "5", "sc_threshold": "0"})
    with av.open(str(src)) as c:
        first = next(p for p in c.demux(c.streams.video[0]) if p.size)
    data = bytearray(src.read_bytes())
    data[first.pos:first.pos + first.size] = bytes(first.size)  # the first keyframe zeroed
    src.write_bytes(bytes(data))
    reader = VideoReader(src)
    assert len(list(reader)) == 10  # the first group of pictures is lost, the rest plays
    assert reader.notes == ["5 damaged frame(s) could not be decoded and were skipped"]
    result = convert_video(src, tmp_path / "out.mp4", matter=tiny_matter, progress=False)
    assert result.frames_written == 10 and result.notes == tuple(reader.notes)


@pytest.mark.parametrize("layout", ["2.1", "6.0", "downmix"])
def test_audio_layouts_the_encoder_refuses_are_converted_not_refused(tmp_path, tiny_matter, layout):
    import av

    from livematte.offline import convert_video

    src = _write_clip(tmp_path / "pcm.mkv", frames=10, audio_layout=layout)
    out = convert_video(src, tmp_path / "out.mp4", matter=tiny_matter, progress=False).output
    with av.open(str(out)) as c:
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac" and len(audio.codec_context.layout.channels) >= 1
        assert sum(1 for p in c.demux(audio) if p.size) > 0


def test_an_interrupted_conversion_keeps_only_the_audio_of_its_frames(tmp_path, tiny_matter):
    from livematte.offline import ConversionInterrupted, convert_video

    src = _write_clip(tmp_path / "long_audio.mov", frames=40, audio_layout="stereo", audio_seconds=20)

    def stop_at_10(n):
        if n == 10:
            raise KeyboardInterrupt

    with pytest.raises(ConversionInterrupted) as stop:
        convert_video(src, tmp_path / "out.mp4", matter=tiny_matter, progress=False, on_frame=stop_at_10)
    video_end, audio_end = _durations(stop.value.result.output)
    assert video_end < 1.7 and audio_end < video_end + 0.1  # 20 s of audio before
