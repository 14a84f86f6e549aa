"""How to read the Wilson disease blood and urine results, with the reference's cut-offs
(shared/reference/clinical.md 3.2). Advice only; no result is read as excluding the disease.

Each interpretation has a flag, a text and its source. The flag combines the reference range
in use (the source's, or the laboratory's own when given) with the source's diagnostic
cut-offs: a value in a cut-off band is flagged even when it lies inside a laboratory's range,
and the text says both.

>>> result = interpret_caeruloplasmin(8, "mg/dL")
>>> result.flag.value, result.leipzig_points
('low', 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Final

from dystonia import sources
from dystonia.errors import InvalidInput
from dystonia.labs.ranges import (
    CAERULOPLASMIN_REFERENCE_RANGE,
    LAB_RANGE_SOURCE,
    RangePosition,
    ReferenceRange,
    position,
)
from dystonia.labs.units import (
    COPPER_MOLAR_MASS_G_PER_MOL,
    Analyte,
    Quantity,
    Unit,
    canonical_exact,
    parse_analyte,
    parse_unit,
    to_canonical,
)

# EASL 2012 (clinical.md 3.2): below 0.1 g/L (10 mg/dL) with KF rings is usually diagnostic.
CAERULOPLASMIN_DIAGNOSTIC_BELOW_G_PER_L: Final = 0.1
# Leipzig score (PMC6531646, clinical.md 3.2): 10-20 mg/dL scores 1, below 10 mg/dL scores 2.
CAERULOPLASMIN_LEIPZIG_1_POINT_MAX_G_PER_L: Final = 0.2
# EASL 2012 (clinical.md 3.2): basal 24-h urinary copper above 1.6 µmol (100 µg) is typical
# in symptomatic patients.
URINARY_COPPER_TYPICAL_ABOVE_UMOL: Final = 1.6
# EASL 2012; Roberts & Schilsky (clinical.md 3.2): 0.9-1.6 µmol is intermediate, found in about
# half of presymptomatic patients.
URINARY_COPPER_INTERMEDIATE_FROM_UMOL: Final = 0.9
# EASL 2012; Roberts & Schilsky (clinical.md 3.2): above 0.64 µmol (40 µg) is suggestive; the
# source gives it as the cut-off used in children.
URINARY_COPPER_SUGGESTIVE_ABOVE_UMOL: Final = 0.64
# EASL via a secondary summary (clinical.md 3.2): non-caeruloplasmin copper = total serum copper
# (µg/L) - 3.15 x caeruloplasmin (mg/L), above 200 µg/L in untreated Wilson disease.
NCC_CAERULOPLASMIN_FACTOR: Final = Fraction("3.15")
NCC_UNTREATED_ABOVE_UG_PER_L: Final = 200.0

NOT_EXCLUDED: Final = (
    "A normal caeruloplasmin does not exclude Wilson disease: it is normal in about 15-36% of "
    "patients (mostly hepatic) and can be falsely normal with inflammation, oestrogen or in "
    "pregnancy."
)
LOW_FOR_OTHER_REASONS: Final = (
    "Caeruloplasmin can also be low for other reasons (heterozygous carriers, liver failure, "
    "protein loss)."
)
NO_EXCLUDING_VALUE: Final = "The reference gives no value that excludes Wilson disease."
NCC_NAME: Final = "non-caeruloplasmin copper"


class Flag(StrEnum):
    """How a result is flagged for the clinician."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    NOT_FLAGGED = "not_flagged"  # no range to compare with and no cut-off passed
    NOT_INTERPRETABLE = "not_interpretable"


@dataclass(frozen=True)
class Interpretation:
    """One result read against its range and the reference's cut-offs."""

    name: str
    value: Quantity
    flag: Flag
    text: str
    source: str
    reference_range: ReferenceRange | None
    leipzig_points: int | None


def _number(value: float) -> str:
    return f"{value:.3g}"


def _read(
    analyte: Analyte, value: object, unit: Unit | str, reference_range: ReferenceRange | None
) -> tuple[Quantity, str]:
    """The value in the canonical unit and a sentence giving it (with the value as reported
    when that was another unit); refuses a range in another unit."""
    quantity = to_canonical(analyte, value, unit)
    if reference_range is not None and reference_range.unit is not quantity.unit:
        allowed = f"a range in {quantity.unit.value}"
        raise InvalidInput(field="reference_range", value=reference_range, allowed=allowed)
    reported = parse_unit(analyte, unit)
    text = f"{_number(quantity.value)} {quantity.unit.value}."
    if reported is not quantity.unit:
        text = f"{value} {reported.value} = {text}"
    return quantity, text


def _range_sentence(value: float, reference_range: ReferenceRange) -> tuple[RangePosition, str]:
    where = position(value, reference_range)
    whose = (
        "the laboratory's reference range"
        if reference_range.source == LAB_RANGE_SOURCE
        else "the reference range the source gives"
    )
    text = f"{where.value.capitalize()} {whose} ({reference_range.describe()})."
    return where, text


def _sources(*names: str) -> str:
    return "; ".join(dict.fromkeys(names))


def caeruloplasmin_leipzig_points(g_per_l: float) -> int:
    """The Leipzig score's caeruloplasmin item: 2 below 0.1 g/L, 1 from 0.1 to 0.2 g/L."""
    if g_per_l < CAERULOPLASMIN_DIAGNOSTIC_BELOW_G_PER_L:
        return 2
    if g_per_l <= CAERULOPLASMIN_LEIPZIG_1_POINT_MAX_G_PER_L:
        return 1
    return 0


def interpret_caeruloplasmin(
    value: object, unit: Unit | str, *, reference_range: ReferenceRange | None = None
) -> Interpretation:
    """Serum caeruloplasmin against its range (0.2-0.5 g/L unless the laboratory's is given)
    and the Leipzig bands. Raises InvalidInput for a bad value or unit."""
    quantity, value_text = _read(Analyte.CAERULOPLASMIN, value, unit, reference_range)
    in_use = reference_range or CAERULOPLASMIN_REFERENCE_RANGE
    where, range_text = _range_sentence(quantity.value, in_use)
    points = caeruloplasmin_leipzig_points(quantity.value)
    texts = [value_text, range_text]
    if points == 2:
        texts.append(
            "Below 0.1 g/L (10 mg/dL): with Kayser-Fleischer rings this is usually enough for "
            "the diagnosis of Wilson disease; it scores 2 in the Leipzig score."
        )
    elif points == 1:
        texts.append("0.1-0.2 g/L (10-20 mg/dL) scores 1 in the Leipzig score.")
    low = points > 0 or where is RangePosition.BELOW
    texts.append(LOW_FOR_OTHER_REASONS if low else NOT_EXCLUDED)
    flag = Flag.LOW if low else Flag.HIGH if where is RangePosition.ABOVE else Flag.NORMAL
    return Interpretation(
        name=Analyte.CAERULOPLASMIN.label,
        value=quantity,
        flag=flag,
        text=" ".join(texts),
        source=_sources(in_use.source, sources.EASL_2012, sources.LEIPZIG_SCORE),
        reference_range=in_use,
        leipzig_points=points,
    )


def _urinary_cutoff_text(umol: float) -> str:
    if umol > URINARY_COPPER_TYPICAL_ABOVE_UMOL:
        return "Above 1.6 µmol/24 h (100 µg): typical of symptomatic Wilson disease."
    if umol >= URINARY_COPPER_INTERMEDIATE_FROM_UMOL:
        return (
            "0.9-1.6 µmol/24 h: the intermediate range, found in about half of presymptomatic "
            "patients; also above 0.64 µmol/24 h (40 µg), the suggestive cut-off the source "
            "gives for children."
        )
    if umol > URINARY_COPPER_SUGGESTIVE_ABOVE_UMOL:
        return (
            "Above 0.64 µmol/24 h (40 µg): suggestive of Wilson disease; the source gives this "
            "as the cut-off used in children."
        )
    return (
        "Not above 0.64 µmol/24 h (40 µg), the lowest cut-off the reference gives (the one "
        f"used in children). {NO_EXCLUDING_VALUE}"
    )


def urinary_copper_leipzig_points(umol: float, *, upper_limit_umol: float) -> int:
    """The Leipzig score's basal urinary copper item: 1 above the laboratory's upper limit up
    to twice it, 2 above twice it."""
    if umol > 2 * upper_limit_umol:
        return 2
    return 1 if umol > upper_limit_umol else 0


def interpret_urinary_copper(
    value: object, unit: Unit | str, *, reference_range: ReferenceRange | None = None
) -> Interpretation:
    """Basal 24-hour urinary copper against the reference's cut-offs and, when given, the
    laboratory's range (whose upper limit also gives the Leipzig item). Raises InvalidInput
    for a bad value or unit."""
    quantity, value_text = _read(Analyte.URINARY_COPPER_24H, value, unit, reference_range)
    umol = quantity.value
    texts = [value_text, _urinary_cutoff_text(umol)]
    raised = umol > URINARY_COPPER_SUGGESTIVE_ABOVE_UMOL
    flag = Flag.HIGH if raised else Flag.NOT_FLAGGED
    points = None
    if reference_range is not None:
        where, range_text = _range_sentence(umol, reference_range)
        texts.insert(1, range_text)
        if not raised:
            flag = _RANGE_FLAGS[where]
        if reference_range.high is not None:
            points = urinary_copper_leipzig_points(umol, upper_limit_umol=reference_range.high)
            texts.append(
                f"Against the laboratory's upper limit it scores {points} in the Leipzig score."
            )
    range_source = () if reference_range is None else (reference_range.source,)
    return Interpretation(
        name=Analyte.URINARY_COPPER_24H.label,
        value=quantity,
        flag=flag,
        text=" ".join(texts),
        source=_sources(*range_source, sources.EASL_2012, sources.ROBERTS_SCHILSKY),
        reference_range=reference_range,
        leipzig_points=points,
    )


_RANGE_FLAGS: Final = {
    RangePosition.BELOW: Flag.LOW,
    RangePosition.WITHIN: Flag.NORMAL,
    RangePosition.ABOVE: Flag.HIGH,
}


def interpret_serum_copper(
    value: object, unit: Unit | str, *, reference_range: ReferenceRange | None = None
) -> Interpretation:
    """Total serum copper: the reference gives no range or cut-off for it, so it is flagged only
    against a laboratory's range; it feeds the non-caeruloplasmin copper estimate."""
    quantity, value_text = _read(Analyte.SERUM_COPPER, value, unit, reference_range)
    texts = [value_text]
    flag = Flag.NOT_FLAGGED
    if reference_range is not None:
        where, range_text = _range_sentence(quantity.value, reference_range)
        texts.append(range_text)
        flag = _RANGE_FLAGS[where]
    texts.append("The reference gives no cut-off for total serum copper on its own.")
    return Interpretation(
        name=Analyte.SERUM_COPPER.label,
        value=quantity,
        flag=flag,
        text=" ".join(texts),
        source=_sources(
            *(() if reference_range is None else (reference_range.source,)), sources.EASL_2012
        ),
        reference_range=reference_range,
        leipzig_points=None,
    )


def non_caeruloplasmin_copper(
    *,
    serum_copper: object,
    serum_copper_unit: Unit | str,
    caeruloplasmin: object,
    caeruloplasmin_unit: Unit | str,
) -> Interpretation:
    """Non-caeruloplasmin ("free") copper in µg/L: total serum copper (µg/L) minus 3.15 times
    caeruloplasmin (mg/L); above 200 µg/L in untreated Wilson disease. The reference marks the
    source as secondary. A negative estimate cannot be read and is flagged so.

    >>> result = non_caeruloplasmin_copper(
    ...     serum_copper=10, serum_copper_unit="µmol/L",
    ...     caeruloplasmin=10, caeruloplasmin_unit="mg/dL",
    ... )
    >>> result.value.value, result.flag.value
    (320.46, 'high')
    """
    copper = canonical_exact(Analyte.SERUM_COPPER, serum_copper, serum_copper_unit)
    protein = canonical_exact(Analyte.CAERULOPLASMIN, caeruloplasmin, caeruloplasmin_unit)
    copper_ug_per_l = copper * COPPER_MOLAR_MASS_G_PER_MOL  # µmol/L x g/mol = µg/L
    protein_mg_per_l = protein * 1000
    exact = copper_ug_per_l - NCC_CAERULOPLASMIN_FACTOR * protein_mg_per_l
    estimate = float(exact)
    texts = [f"{_number(estimate)} µg/L, from total copper minus 3.15 x caeruloplasmin (mg/L)."]
    if exact < 0:
        flag = Flag.NOT_INTERPRETABLE
        texts.append("A negative estimate cannot be read; check both results.")
    elif exact > NCC_UNTREATED_ABOVE_UG_PER_L:
        flag = Flag.HIGH
        texts.append("Above 200 µg/L, as found in untreated Wilson disease.")
    else:
        flag = Flag.NOT_FLAGGED
        texts.append("Not above 200 µg/L, the value given for untreated Wilson disease.")
        texts.append(NO_EXCLUDING_VALUE)
    texts.append("The reference marks this calculation's source as secondary.")
    return Interpretation(
        name=NCC_NAME,
        value=Quantity(estimate, Unit.UG_PER_L),
        flag=flag,
        text=" ".join(texts),
        source=sources.EASL_NCC_SECONDARY,
        reference_range=None,
        leipzig_points=None,
    )


Result = tuple[object, Unit | str]


def interpret_results(
    results: Mapping[Analyte | str, Result],
    *,
    reference_ranges: Mapping[Analyte, ReferenceRange] | None = None,
) -> tuple[Interpretation, ...]:
    """Every result given, keyed by analyte, as ``(value, unit)``; with both serum copper and
    caeruloplasmin, the non-caeruloplasmin copper estimate as well. A laboratory's ranges, by
    analyte, replace the source's.

    >>> [r.flag.value for r in interpret_results({"caeruloplasmin": (0.3, "g/L")})]
    ['normal']
    """
    ranges = reference_ranges or {}
    given: dict[Analyte, Result] = {}
    for key, result in results.items():
        analyte = parse_analyte(key)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise InvalidInput(field=analyte.value, value=result, allowed="a (value, unit) pair")
        given[analyte] = result
    readers = {
        Analyte.CAERULOPLASMIN: interpret_caeruloplasmin,
        Analyte.SERUM_COPPER: interpret_serum_copper,
        Analyte.URINARY_COPPER_24H: interpret_urinary_copper,
    }
    found = [
        readers[analyte](*given[analyte], reference_range=ranges.get(analyte))
        for analyte in Analyte
        if analyte in given
    ]
    if Analyte.CAERULOPLASMIN in given and Analyte.SERUM_COPPER in given:
        copper, copper_unit = given[Analyte.SERUM_COPPER]
        protein, protein_unit = given[Analyte.CAERULOPLASMIN]
        found.append(
            non_caeruloplasmin_copper(
                serum_copper=copper,
                serum_copper_unit=copper_unit,
                caeruloplasmin=protein,
                caeruloplasmin_unit=protein_unit,
            )
        )
    return tuple(found)
