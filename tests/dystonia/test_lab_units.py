"""Analytes, canonical units and exact conversions (copper 63.546 g/mol, IUPAC)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia.errors import InvalidInput
from dystonia.labs import (
    CANONICAL_UNITS,
    Analyte,
    Quantity,
    Unit,
    accepted_units,
    from_canonical,
    lab_reference_range,
    to_canonical,
)
from dystonia.labs.ranges import default_reference_range

# The factors written out independently of the module: canonical units per accepted unit.
COPPER = Fraction("63.546")
EXPECTED_FACTORS = {
    Analyte.CAERULOPLASMIN: {
        Unit.G_PER_L: Fraction(1),
        Unit.MG_PER_DL: Fraction(1, 100),
        Unit.MG_PER_L: Fraction(1, 1000),
    },
    Analyte.SERUM_COPPER: {
        Unit.UMOL_PER_L: Fraction(1),
        Unit.UG_PER_DL: 10 / COPPER,
        Unit.UG_PER_L: 1 / COPPER,
    },
    Analyte.URINARY_COPPER_24H: {
        Unit.UMOL_PER_24H: Fraction(1),
        Unit.UG_PER_24H: 1 / COPPER,
        Unit.NMOL_PER_24H: Fraction(1, 1000),
    },
}
PAIRS = [(analyte, unit) for analyte, units in EXPECTED_FACTORS.items() for unit in units]
values = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_each_analyte_has_one_canonical_unit_and_its_accepted_units():
    assert CANONICAL_UNITS == {
        Analyte.CAERULOPLASMIN: Unit.G_PER_L,
        Analyte.SERUM_COPPER: Unit.UMOL_PER_L,
        Analyte.URINARY_COPPER_24H: Unit.UMOL_PER_24H,
    }
    for analyte, units in EXPECTED_FACTORS.items():
        assert accepted_units(analyte) == tuple(units)


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [
        ("caeruloplasmin", 10, "mg/dL", 0.1),  # clinical.md 3.2: 0.1 g/L (10 mg/dL)
        ("caeruloplasmin", 20, "mg/dL", 0.2),
        ("caeruloplasmin", 200, "mg/L", 0.2),
        ("caeruloplasmin", 0.35, "g/L", 0.35),
        ("serum_copper", 63.546, "µg/L", 1.0),
        ("serum_copper", 100, "µg/dL", 1000 / 63.546),
        ("serum_copper", 15, "µmol/L", 15.0),
        ("urinary_copper_24h", 640, "nmol/24 h", 0.64),
        ("urinary_copper_24h", 63.546, "µg/24 h", 1.0),
        ("urinary_copper_24h", 1.6, "µmol/24 h", 1.6),
    ],
)
def test_worked_conversions(analyte, value, unit, expected):
    result = to_canonical(analyte, value, unit)

    assert result.value == pytest.approx(expected, rel=1e-15)
    assert result.unit is CANONICAL_UNITS[Analyte(analyte)]


def test_the_sources_microgram_pairs_are_rounded():
    # clinical.md 3.2 pairs 1.6 µmol with 100 µg and 0.64 µmol with 40 µg; at 63.546 g/mol
    # 100 µg is 1.574 µmol and 40 µg is 0.629 µmol, so the µmol cut-offs are the ones applied.
    assert to_canonical("urinary_copper_24h", 100, "µg/24 h").value == pytest.approx(1.5737, 1e-4)
    assert to_canonical("urinary_copper_24h", 40, "µg/24 h").value == pytest.approx(0.62947, 1e-4)


@pytest.mark.parametrize(
    ("spelling", "unit"),
    [
        ("µg/L", Unit.UG_PER_L),  # micro sign
        ("μg/L", Unit.UG_PER_L),  # Greek mu
        ("ug/L", Unit.UG_PER_L),
        ("ug/l", Unit.UG_PER_L),
        ("umol/L", Unit.UMOL_PER_L),
        ("µmol/24h", None),  # urinary unit: refused for serum copper below
    ],
)
def test_unit_spellings(spelling, unit):
    if unit is None:
        with pytest.raises(InvalidInput):
            to_canonical("serum_copper", 1, spelling)
    else:
        assert to_canonical("serum_copper", 63.546, spelling).value == pytest.approx(
            63.546 * float(EXPECTED_FACTORS[Analyte.SERUM_COPPER][unit])
        )


def test_urinary_units_with_or_without_a_space():
    assert to_canonical("urinary_copper_24h", 500, "nmol/24h").value == 0.5
    assert to_canonical("urinary_copper_24h", 500, "NMOL/24 H").value == 0.5


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "field"),
    [
        ("ceruloplasmin", 1, "g/L", "analyte"),
        ("", 1, "g/L", "analyte"),
        ("caeruloplasmin", 1, "mmol/L", "unit"),
        ("caeruloplasmin", 1, "µmol/L", "unit"),  # serum copper's unit
        ("caeruloplasmin", 1, "µg/L", "unit"),
        ("serum_copper", 1, "g/L", "unit"),  # caeruloplasmin's unit
        ("serum_copper", 1, "µmol/24 h", "unit"),  # a 24-hour amount, not a concentration
        ("urinary_copper_24h", 1, "µmol/L", "unit"),
        ("urinary_copper_24h", 1, "", "unit"),
        ("caeruloplasmin", -0.1, "g/L", "value"),
        ("caeruloplasmin", math.nan, "g/L", "value"),
        ("caeruloplasmin", math.inf, "g/L", "value"),
        ("caeruloplasmin", "0.3", "g/L", "value"),
        ("caeruloplasmin", None, "g/L", "value"),
        ("caeruloplasmin", True, "g/L", "value"),
        ("caeruloplasmin", 10**400, "g/L", "value"),
    ],
)
def test_refusals_name_the_field(analyte, value, unit, field):
    with pytest.raises(InvalidInput) as raised:
        to_canonical(analyte, value, unit)

    assert raised.value.field == field


def test_a_unit_of_another_analyte_is_refused_with_the_accepted_units():
    with pytest.raises(InvalidInput) as raised:
        to_canonical(Analyte.CAERULOPLASMIN, 1, Unit.UMOL_PER_L)

    assert raised.value.allowed == "a unit of serum caeruloplasmin: g/L, mg/dL, mg/L"


def test_zero_is_a_value():
    assert to_canonical("serum_copper", 0, "µg/dL") == Quantity(0.0, Unit.UMOL_PER_L)


def test_a_value_too_large_to_show_is_refused():
    huge = to_canonical("caeruloplasmin", 1e307, "g/L")

    with pytest.raises(InvalidInput) as raised:
        from_canonical("caeruloplasmin", huge, "mg/L")

    assert raised.value.field == "value"


def test_from_canonical_needs_a_canonical_quantity():
    with pytest.raises(InvalidInput) as raised:
        from_canonical("caeruloplasmin", Quantity(10, Unit.MG_PER_DL), "g/L")

    assert raised.value.field == "quantity"


@given(pair=st.sampled_from(PAIRS), value=values)
def test_to_canonical_and_back_round_trips(pair, value):
    analyte, unit = pair
    canonical = to_canonical(analyte, value, unit)

    back = from_canonical(analyte, canonical, unit)

    assert back.unit is unit
    assert math.isclose(back.value, value, rel_tol=1e-15, abs_tol=1e-300)


@given(pair=st.sampled_from(PAIRS), value=values)
def test_conversion_matches_the_exact_factor(pair, value):
    analyte, unit = pair

    exact = Fraction(repr(value)) * EXPECTED_FACTORS[analyte][unit]

    assert to_canonical(analyte, value, unit).value == float(exact)


@given(data=st.data(), analyte=st.sampled_from(list(EXPECTED_FACTORS)), a=values, b=values)
def test_ordering_is_preserved_across_units(data, analyte, a, b):
    first, second = (data.draw(st.sampled_from(list(EXPECTED_FACTORS[analyte]))) for _ in "ab")
    exact_a = Fraction(repr(a)) * EXPECTED_FACTORS[analyte][first]
    exact_b = Fraction(repr(b)) * EXPECTED_FACTORS[analyte][second]

    canonical_a = to_canonical(analyte, a, first).value
    canonical_b = to_canonical(analyte, b, second).value

    if exact_a < exact_b:
        assert canonical_a <= canonical_b
    elif exact_a > exact_b:
        assert canonical_a >= canonical_b
    else:
        assert canonical_a == canonical_b


def test_the_source_gives_a_range_only_for_caeruloplasmin():
    caeruloplasmin = default_reference_range("caeruloplasmin")

    assert (caeruloplasmin.low, caeruloplasmin.high) == (0.2, 0.5)
    assert caeruloplasmin.unit is Unit.G_PER_L
    assert "EASL" in caeruloplasmin.source
    assert default_reference_range("serum_copper") is None
    assert default_reference_range("urinary_copper_24h") is None


def test_a_laboratorys_range_in_its_own_units_is_kept_in_the_canonical_unit():
    urine = lab_reference_range("urinary_copper_24h", low=None, high=40, unit="µg/24 h")
    copper = lab_reference_range("serum_copper", low=70, high=140, unit="µg/dL")

    assert urine.low is None
    assert urine.high == pytest.approx(40 / 63.546)
    assert urine.unit is Unit.UMOL_PER_24H
    assert copper.low == pytest.approx(700 / 63.546)
    assert copper.source == "the laboratory's own reference range"


@pytest.mark.parametrize(
    ("low", "high", "unit", "field"),
    [
        (None, None, "g/L", "reference_range"),
        (0.5, 0.2, "g/L", "reference_range"),
        (-1, 0.5, "g/L", "value"),
        (0.2, 0.5, "µmol/L", "unit"),
    ],
)
def test_a_bad_laboratory_range_is_refused(low, high, unit, field):
    with pytest.raises(InvalidInput) as raised:
        lab_reference_range("caeruloplasmin", low=low, high=high, unit=unit)

    assert raised.value.field == field
