"""argparse types that check a number's range, so that a bad value is told with its option's name (exit 2)."""
from __future__ import annotations

import argparse
import math


def number_in(kind: type, low: float | None = None, high: float | None = None):
    """An argparse ``type``: ``kind`` (int or float) within low..high, both inclusive, either open if None."""
    noun = "an integer" if kind is int else "a number"
    if low is not None and high is not None:
        bounds = f"{noun} in {low:g}..{high:g}"
    elif low is not None:
        bounds = f"{noun} at least {low:g}"
    elif high is not None:
        bounds = f"{noun} at most {high:g}"
    else:
        bounds = noun

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {bounds}, not {text!r}") from None
        if (isinstance(value, float) and math.isnan(value)) or (low is not None and value < low) or \
                (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse
