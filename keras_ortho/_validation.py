"""Argument checks shared by every public object.

Each check names the argument, what was expected and what was received, so that
bad input fails in `__init__` with a clear message instead of deep inside a
backend.
"""

import math
import numbers
import os


def validate_non_negative_float(value, name):
    """Returns `value` as a float; raises unless it is a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a finite number "
            f">= 0. Received: {name}={value!r}"
        )
    return float(value)


def validate_positive_float(value, name):
    """Returns `value` as a float; raises unless it is a finite number > 0."""
    value = validate_non_negative_float(value, name)
    if value == 0:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a finite number "
            f"> 0. Received: {name}={value!r}"
        )
    return value


def validate_float_in_range(
    value, name, minimum, maximum, include_minimum=True, include_maximum=True
):
    """Returns `value` as a float; raises unless it is a finite number in the
    interval from `minimum` to `maximum`, each end included or not."""
    in_range = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and (value >= minimum if include_minimum else value > minimum)
        and (value <= maximum if include_maximum else value < maximum)
    )
    if not in_range:
        interval = (
            f"{'[' if include_minimum else '('}{minimum}, "
            f"{maximum}{']' if include_maximum else ')'}"
        )
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a number in "
            f"{interval}. Received: {name}={value!r}"
        )
    return float(value)


def validate_int(value, name, minimum=None, maximum=None):
    """Returns `value` as an int; raises unless it is an integer in range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"Invalid type for argument `{name}`: expected an integer. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    value = int(value)
    if (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum}")
        if maximum is not None:
            bounds.append(f"<= {maximum}")
        raise ValueError(
            f"Invalid value for argument `{name}`: expected an integer "
            f"{' and '.join(bounds)}. Received: {name}={value!r}"
        )
    return value


def validate_bool(value, name):
    """Returns `value`; raises unless it is a bool."""
    if not isinstance(value, bool):
        raise TypeError(
            f"Invalid type for argument `{name}`: expected a bool. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def validate_choice(value, name, choices):
    """Returns `value`; raises unless it is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        expected = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"Invalid value for argument `{name}`: expected one of {expected}. "
            f"Received: {name}={value!r}"
        )
    return value


def validate_optional_path(value, name):
    """Returns `value` as a str path, or `None`; raises unless str/PathLike/None."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"Invalid type for argument `{name}`: expected a path (str or "
            f"os.PathLike) or None. Received: {name}={value!r} of type "
            f"{type(value).__name__}"
        )
    return os.fspath(value)
