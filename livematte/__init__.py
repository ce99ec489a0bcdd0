"""livematte: real-time human matting."""

from .config import EngineConfig
from .errors import DeviceError, InputError, LivematteError, OutputError, SettingsError
from .engine import Matter
from .models import create_model, list_models

__version__ = "0.1.0"
__all__ = ["Matter", "EngineConfig", "create_model", "list_models", "LivematteError", "InputError", "OutputError",
           "SettingsError", "DeviceError", "__version__"]
