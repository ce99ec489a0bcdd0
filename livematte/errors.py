"""Typed errors: the CLI turns each into a one-line message and a non-zero exit code."""


class LivematteError(Exception):
    """Base class: something the user can fix; the message says what."""

    exit_code = 2


class InputError(LivematteError):
    """An input file is missing, unreadable, empty, corrupt, or of an unsupported kind."""


class OutputError(LivematteError):
    """An output cannot be written: exists, equals the input, unwritable, disk full, or wrong format."""


class SettingsError(LivematteError):
    """A bad option value, background spec or preset."""


class DeviceError(LivematteError):
    """A camera, virtual camera or compute device is missing or failed."""
