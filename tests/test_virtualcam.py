"""The virtual camera sink: frames through a registered pyvirtualcam backend, clear errors without a device."""
import glob
import platform

import numpy as np
import pytest

from clips import frame_image
from fakes import recording_vcam  # noqa: F401 - a fixture
from livematte.errors import DeviceError, SettingsError
from livematte.virtualcam import SETUP_HELP, NullSink, VirtualCamera, no_device_message


def test_virtual_camera_sends_rgb_frames_through_the_backend(recording_vcam):
    cam = VirtualCamera(64, 48, 30, backend="recording", device="test-cam")
    assert cam.device == "test-cam"
    frame = frame_image(1, 64, 48)
    cam.send(frame)
    cam.send(frame_image(2, 128, 96))  # another size (a camera reopened in another mode): scaled to fit
    cam.close()
    backend = recording_vcam.instances[0]
    assert (backend.width, backend.height, backend.fps) == (64, 48, 30) and backend.closed
    assert np.array_equal(backend.sent[0][1], frame)
    assert backend.sent[1][1].shape == (48, 64, 3) and cam.frames_sent == 2


def test_virtual_camera_missing_device_says_how_to_get_one(recording_vcam):
    with pytest.raises(DeviceError) as info:
        VirtualCamera(64, 48, 30, backend="missing")
    message = str(info.value)
    assert "\n" not in message and message.startswith("no virtual camera device is available")
    assert "No v4l2 loopback device found" in message  # what pyvirtualcam said ...
    for needed in ("v4l2loopback", "exclusive_caps=1", "OBS", "Windows and macOS"):  # ... and what to do
        assert needed in message


def test_virtual_camera_unknown_backend_is_a_settings_error():
    with pytest.raises(SettingsError, match="unknown virtual camera backend 'nope'"):
        VirtualCamera(64, 48, 30, backend="nope")


@pytest.mark.skipif(platform.system() != "Linux" or bool(glob.glob("/dev/video*")),
                    reason="needs Linux without any video device")
def test_virtual_camera_default_backend_without_a_loopback_device():
    with pytest.raises(DeviceError, match="modprobe v4l2loopback"):
        VirtualCamera(64, 48, 30)


def test_virtual_camera_help_message_is_one_line():
    msg = no_device_message("first problem\n  second problem\n")
    assert "\n" not in msg and "first problem; second problem" in msg and SETUP_HELP in msg


def test_virtual_camera_null_sink_counts():
    sink = NullSink()
    sink.send(frame_image(0, 8, 8))
    sink.close()
    assert sink.frames_sent == 1
