import math
import re

import pytest

from keras_ortho._validation import validate_float_in_range


@pytest.mark.parametrize(
    "include_minimum, include_maximum, accepted, refused",
    [
        (True, True, [0, 0.5, 1], [-0.1, 1.1]),
        (False, True, [0.5, 1], [0, -1]),
        (True, False, [0, 0.5], [1, 2]),
        (False, False, [0.5], [0, 1]),
    ],
)
def test_float_in_range_ends(include_minimum, include_maximum, accepted, refused):
    for value in accepted:
        result = validate_float_in_range(
            value, "x", 0, 1, include_minimum, include_maximum
        )
        assert result == value and isinstance(result, float)
    interval = f"{'[' if include_minimum else '('}0, 1{']' if include_maximum else ')'}"
    for value in refused:
        with pytest.raises(
            ValueError, match=rf"`x`.*in {re.escape(interval)}.*x={value}"
        ):
            validate_float_in_range(value, "x", 0, 1, include_minimum, include_maximum)


@pytest.mark.parametrize("value", [math.nan, math.inf, True, "0.5", None])
def test_float_in_range_refuses_non_numbers(value):
    with pytest.raises(ValueError, match="`x`"):
        validate_float_in_range(value, "x", 0, 1)
