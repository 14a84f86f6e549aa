"""Reference ranges: the one the source gives, or a laboratory's own, which replaces it.

>>> default_reference_range("caeruloplasmin").describe()
'0.2-0.5 g/L'
>>> lab_reference_range("caeruloplasmin", low=16, high=45, unit="mg/dL").low
0.16
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from dystonia import sources
from dystonia.errors import InvalidInput
from dystonia.labs.units import (
    CANONICAL_UNITS,
    Analyte,
    Unit,
    parse_analyte,
    to_canonical,
)

# EASL 2012 (clinical.md 3.2): serum caeruloplasmin normal about 0.2-0.5 g/L.
CAERULOPLASMIN_RANGE_G_PER_L: Final = (0.2, 0.5)
LAB_RANGE_SOURCE: Final = "the laboratory's own reference range"


@dataclass(frozen=True)
class ReferenceRange:
    """A range in the analyte's canonical unit; either bound may be open (None)."""

    low: float | None
    high: float | None
    unit: Unit
    source: str

    def describe(self) -> str:
        low = "" if self.low is None else f"{self.low:g}"
        high = "" if self.high is None else f"{self.high:g}"
        return f"{low}-{high} {self.unit.value}"


CAERULOPLASMIN_REFERENCE_RANGE: Final = ReferenceRange(
    *CAERULOPLASMIN_RANGE_G_PER_L, unit=Unit.G_PER_L, source=sources.EASL_2012
)


class RangePosition(StrEnum):
    """Where a value lies against a reference range."""

    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


def default_reference_range(analyte: Analyte | str) -> ReferenceRange | None:
    """The range the reference gives: only caeruloplasmin has one (clinical.md 3.2 gives none
    for serum or urinary copper)."""
    if parse_analyte(analyte) is Analyte.CAERULOPLASMIN:
        return CAERULOPLASMIN_REFERENCE_RANGE
    return None


def lab_reference_range(
    analyte: Analyte | str,
    *,
    low: float | None,
    high: float | None,
    unit: Unit | str,
) -> ReferenceRange:
    """A laboratory's own range in any unit ``analyte`` is accepted in, in the canonical unit.

    Raises InvalidInput when neither bound is given, a bound is not a finite number of 0 or
    more, the unit does not fit the analyte, or the low bound is above the high one.
    """
    known = parse_analyte(analyte)
    if low is None and high is None:
        raise InvalidInput(field="reference_range", value=None, allowed="a low or a high bound")
    bounds = [
        None if bound is None else to_canonical(known, bound, unit).value for bound in (low, high)
    ]
    canonical_low, canonical_high = bounds
    if canonical_low is not None and canonical_high is not None and canonical_low > canonical_high:
        raise InvalidInput(
            field="reference_range", value=(low, high), allowed="a low bound at or below the high"
        )
    return ReferenceRange(canonical_low, canonical_high, CANONICAL_UNITS[known], LAB_RANGE_SOURCE)


def position(value: float, reference_range: ReferenceRange) -> RangePosition:
    """Below, within (bounds included) or above the range."""
    if reference_range.low is not None and value < reference_range.low:
        return RangePosition.BELOW
    if reference_range.high is not None and value > reference_range.high:
        return RangePosition.ABOVE
    return RangePosition.WITHIN
