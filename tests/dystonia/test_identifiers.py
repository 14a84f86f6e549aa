"""NHS number validation (NHS Data Dictionary, Modulus 11)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia.errors import InvalidInput
from dystonia.identifiers import nhs_number_check_digit, nhs_number_display, nhs_number_normalise


def test_the_worked_example_is_valid():
    # 9*10+4*9+3*8+4*7+7*6+6*5+5*4+9*3+1*2 = 299; 299 mod 11 = 2; 11-2 = 9.
    assert nhs_number_check_digit("943476591") == 9
    assert nhs_number_normalise("943 476 5919") == "9434765919"
    assert nhs_number_normalise("943-476-5919") == "9434765919"


def _first_nine_with_remainder(remainder):
    """Nine digits whose weighted sum leaves this remainder modulo 11."""
    for n in range(1000):
        nine = f"{n:09d}"
        weighted = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
        if weighted % 11 == remainder:
            return nine
    raise AssertionError(remainder)


def test_a_result_of_11_gives_check_digit_0():
    assert nhs_number_check_digit(_first_nine_with_remainder(0)) == 0


def test_a_result_of_10_makes_the_number_invalid():
    nine = _first_nine_with_remainder(1)

    assert nhs_number_check_digit(nine) is None
    for last in "0123456789":
        with pytest.raises(InvalidInput):
            nhs_number_normalise(nine + last)


@pytest.mark.parametrize(
    "value",
    [
        "9434765918",
        "943476591",
        "94347659190",
        "94347659l9",
        "",
        "".join(chr(0xFF10 + int(d)) for d in "9434765919"),  # full-width digits
        "<script>",
        "9434765919\x00",
    ],
)
def test_invalid_numbers_are_refused_naming_the_field(value):
    with pytest.raises(InvalidInput, match=r"^nhs_number:"):
        nhs_number_normalise(value)


def test_display_spacing():
    assert nhs_number_display("9434765919") == "943 476 5919"


@given(st.from_regex(r"\A[0-9]{9}\Z"), st.integers(min_value=0, max_value=9))
def test_exactly_one_last_digit_is_valid_unless_none_is(nine, last):
    check = nhs_number_check_digit(nine)
    valid = check == last
    try:
        nhs_number_normalise(nine + str(last))
    except InvalidInput:
        assert not valid
    else:
        assert valid
