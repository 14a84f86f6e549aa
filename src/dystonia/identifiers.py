"""Patient identifiers: NHS number validation by its Modulus 11 check digit.

Source: NHS Data Dictionary, data element "NHS Number" (Modulus 11 algorithm, mandatory).

>>> nhs_number_normalise("943 476 5919")
'9434765919'
"""

from __future__ import annotations

from dystonia.errors import InvalidInput

NHS_NUMBER_LENGTH = 10
# Weights 10 down to 2 for the first nine digits (NHS Data Dictionary, step 1).
_WEIGHTS = tuple(range(10, 1, -1))
_ALLOWED = "10 digits whose last digit is the Modulus 11 check digit, e.g. 943 476 5919"


def nhs_number_check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or ``None`` when they can have none (result 10)."""
    if len(first_nine) != NHS_NUMBER_LENGTH - 1 or not first_nine.isdigit():
        raise InvalidInput(field="nhs_number", value=first_nine, allowed="nine digits")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_number_normalise(value: str) -> str:
    """The NHS number as ten digits, spaces and hyphens removed; raises InvalidInput unless
    it has ten ASCII digits and a valid check digit."""
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != NHS_NUMBER_LENGTH or not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(field="nhs_number", value=value, allowed=_ALLOWED)
    if nhs_number_check_digit(digits[:9]) != int(digits[9]):
        raise InvalidInput(field="nhs_number", value=value, allowed=_ALLOWED)
    return digits


def nhs_number_display(digits: str) -> str:
    """The usual 3-3-4 spacing, e.g. '943 476 5919'."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
