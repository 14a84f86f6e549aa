"""The analytes the clinic records, one canonical unit each, and exact conversions from the
units laboratories report in.

Factors are exact rationals (SI prefixes, and copper's standard atomic weight for moles), and
every conversion is rounded once, so converting to the canonical unit and back returns the
value and never reorders two results.

>>> to_canonical("caeruloplasmin", 10, "mg/dL")
Quantity(value=0.1, unit=<Unit.G_PER_L: 'g/L'>)
>>> round(to_canonical("urinary_copper_24h", 100, "µg/24 h").value, 3)
1.574
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from dystonia import sources
from dystonia.errors import InvalidInput

# Copper's standard atomic weight, 63.546(3), so its molar mass is 63.546 g/mol: µg per µmol.
COPPER_MOLAR_MASS_G_PER_MOL: Final = Fraction("63.546")  # sources.IUPAC_COPPER_ATOMIC_WEIGHT
COPPER_MOLAR_MASS_SOURCE: Final = sources.IUPAC_COPPER_ATOMIC_WEIGHT


class Analyte(StrEnum):
    """A result the clinic records (the Wilson disease work-up, clinical.md 3.2)."""

    CAERULOPLASMIN = "caeruloplasmin"
    SERUM_COPPER = "serum_copper"
    URINARY_COPPER_24H = "urinary_copper_24h"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: Final = MappingProxyType(
    {
        Analyte.CAERULOPLASMIN: "serum caeruloplasmin",
        Analyte.SERUM_COPPER: "serum copper",
        Analyte.URINARY_COPPER_24H: "24-hour urinary copper",
    }
)


class Unit(StrEnum):
    """A unit a result is accepted in; the value is how it is written on reports."""

    G_PER_L = "g/L"
    MG_PER_DL = "mg/dL"
    MG_PER_L = "mg/L"
    UMOL_PER_L = "µmol/L"
    UG_PER_DL = "µg/dL"
    UG_PER_L = "µg/L"
    UMOL_PER_24H = "µmol/24 h"
    UG_PER_24H = "µg/24 h"
    NMOL_PER_24H = "nmol/24 h"


@dataclass(frozen=True)
class Quantity:
    """A value and its unit."""

    value: float
    unit: Unit


# How many canonical units one accepted unit is; the canonical unit comes first.
_FACTORS: Final = MappingProxyType(
    {
        Analyte.CAERULOPLASMIN: {
            Unit.G_PER_L: Fraction(1),
            Unit.MG_PER_DL: Fraction(1, 100),  # 1 mg/dL = 10 mg/L = 0.01 g/L
            Unit.MG_PER_L: Fraction(1, 1000),
        },
        Analyte.SERUM_COPPER: {
            Unit.UMOL_PER_L: Fraction(1),
            Unit.UG_PER_DL: 10 / COPPER_MOLAR_MASS_G_PER_MOL,  # 1 µg/dL = 10 µg/L
            Unit.UG_PER_L: 1 / COPPER_MOLAR_MASS_G_PER_MOL,
        },
        Analyte.URINARY_COPPER_24H: {
            Unit.UMOL_PER_24H: Fraction(1),
            Unit.UG_PER_24H: 1 / COPPER_MOLAR_MASS_G_PER_MOL,
            Unit.NMOL_PER_24H: Fraction(1, 1000),
        },
    }
)
CANONICAL_UNITS: Final = MappingProxyType(
    {analyte: next(iter(units)) for analyte, units in _FACTORS.items()}
)


def accepted_units(analyte: Analyte) -> tuple[Unit, ...]:
    """The units ``analyte`` is accepted in, the canonical one first."""
    return tuple(_FACTORS[analyte])


def _spelling(text: str) -> str:
    """One spelling for a unit: micro sign or Greek mu, 'u' for micro, any spaces or case."""
    plain = text.replace("μ", "µ").replace(" ", "").lower()
    return "µ" + plain[1:] if plain[:1] == "u" else plain


_UNITS_BY_SPELLING: Final = MappingProxyType({_spelling(unit.value): unit for unit in Unit})


def parse_analyte(analyte: Analyte | str) -> Analyte:
    """The analyte named, or InvalidInput."""
    if isinstance(analyte, Analyte):
        return analyte
    try:
        return Analyte(analyte)
    except ValueError:
        allowed = "one of " + ", ".join(a.value for a in Analyte)
        raise InvalidInput(field="analyte", value=analyte, allowed=allowed) from None


def _units_text(analyte: Analyte) -> str:
    return f"a unit of {analyte.label}: " + ", ".join(u.value for u in accepted_units(analyte))


def parse_unit(analyte: Analyte, unit: Unit | str) -> Unit:
    """The unit named, if ``analyte`` is accepted in it; otherwise (an unknown unit, or one of
    another analyte's dimension) InvalidInput listing the analyte's accepted units."""
    found = unit if isinstance(unit, Unit) else None
    if isinstance(unit, str) and found is None:
        found = _UNITS_BY_SPELLING.get(_spelling(unit))
    if found is None or found not in _FACTORS[analyte]:
        raise InvalidInput(field="unit", value=unit, allowed=_units_text(analyte))
    return found


def parse_value(value: object, *, field: str = "value") -> float:
    """A finite number of 0 or more, as a float, or InvalidInput naming ``field``."""
    allowed = "a finite number of 0 or more"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field=field, value=value, allowed=allowed)
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        raise InvalidInput(field=field, value=value, allowed=allowed) from None
    if not math.isfinite(number) or number < 0:
        raise InvalidInput(field=field, value=value, allowed=allowed)
    return number


def _rounded(exact: Fraction, *, value: float) -> float:
    try:
        return float(exact)
    except OverflowError:
        raise InvalidInput(field="value", value=value, allowed="a smaller number") from None


def canonical_exact(analyte: Analyte | str, value: object, unit: Unit | str) -> Fraction:
    """``value`` in ``unit`` in the analyte's canonical unit, exactly: the value is taken as the
    decimal it is written as (0.1 is 1/10). For calculations that round once at the end."""
    known = parse_analyte(analyte)
    accepted = parse_unit(known, unit)
    number = parse_value(value)
    return Fraction(repr(number)) * _FACTORS[known][accepted]


def to_canonical(analyte: Analyte | str, value: object, unit: Unit | str) -> Quantity:
    """``value`` in ``unit`` as the analyte's canonical unit (g/L caeruloplasmin, µmol/L serum
    copper, µmol/24 h urinary copper), rounded once.

    Raises InvalidInput for an unknown analyte, a unit the analyte is not accepted in, or a
    value that is not a finite number of 0 or more.
    """
    known = parse_analyte(analyte)
    parse_unit(known, unit)
    number = parse_value(value)
    exact = canonical_exact(known, number, unit)
    return Quantity(_rounded(exact, value=number), CANONICAL_UNITS[known])


def from_canonical(analyte: Analyte | str, quantity: Quantity, unit: Unit | str) -> Quantity:
    """A canonical ``quantity`` of ``analyte`` in another accepted ``unit`` (for display)."""
    known = parse_analyte(analyte)
    if quantity.unit is not CANONICAL_UNITS[known]:
        allowed = f"a quantity in {CANONICAL_UNITS[known].value}"
        raise InvalidInput(field="quantity", value=quantity, allowed=allowed)
    wanted = parse_unit(known, unit)
    number = parse_value(quantity.value)
    exact = Fraction(repr(number)) / _FACTORS[known][wanted]
    return Quantity(_rounded(exact, value=number), wanted)
