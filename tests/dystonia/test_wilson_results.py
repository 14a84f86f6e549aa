"""Reading the Wilson disease results against clinical.md 3.2, cut-off by cut-off."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia import sources
from dystonia.errors import InvalidInput
from dystonia.labs import (
    Analyte,
    Flag,
    Unit,
    interpret_caeruloplasmin,
    interpret_results,
    interpret_serum_copper,
    interpret_urinary_copper,
    lab_reference_range,
    non_caeruloplasmin_copper,
)

amounts = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)
# The only ways "exclude" may appear: a result never excludes Wilson disease.
ALLOWED_EXCLUDE = re.compile(r"does not exclude|no value that excludes")


def _never_excludes(text: str) -> bool:
    return "exclud" not in ALLOWED_EXCLUDE.sub("", text)


# Serum caeruloplasmin (EASL 2012; Leipzig score)


@pytest.mark.parametrize(
    ("g_per_l", "flag", "points"),
    [
        (0.0, Flag.LOW, 2),
        (0.05, Flag.LOW, 2),
        (0.099, Flag.LOW, 2),
        (0.1, Flag.LOW, 1),  # 10 mg/dL is in the 10-20 mg/dL band
        (0.15, Flag.LOW, 1),
        (0.2, Flag.LOW, 1),  # 20 mg/dL: still the 1-point band
        (0.21, Flag.NORMAL, 0),
        (0.35, Flag.NORMAL, 0),
        (0.5, Flag.NORMAL, 0),
        (0.51, Flag.HIGH, 0),
    ],
)
def test_caeruloplasmin_bands(g_per_l, flag, points):
    result = interpret_caeruloplasmin(g_per_l, "g/L")

    assert (result.flag, result.leipzig_points) == (flag, points)
    assert result.value.unit is Unit.G_PER_L


def test_below_0_1_g_per_l_says_what_the_source_says():
    result = interpret_caeruloplasmin(8, "mg/dL")

    assert result.text.startswith("8 mg/dL = 0.08 g/L.")
    assert "with Kayser-Fleischer rings this is usually enough for the diagnosis" in result.text
    assert "scores 2 in the Leipzig score" in result.text
    assert "low for other reasons" in result.text
    assert sources.EASL_2012 in result.source
    assert sources.LEIPZIG_SCORE in result.source


def test_0_1_to_0_2_g_per_l_is_the_leipzig_one_point_band():
    result = interpret_caeruloplasmin(150, "mg/L")

    assert result.flag is Flag.LOW
    assert "0.1-0.2 g/L (10-20 mg/dL) scores 1 in the Leipzig score." in result.text


@pytest.mark.parametrize("g_per_l", [0.3, 0.7])
def test_a_normal_or_high_caeruloplasmin_does_not_exclude_wilson_disease(g_per_l):
    result = interpret_caeruloplasmin(g_per_l, "g/L")

    assert "A normal caeruloplasmin does not exclude Wilson disease" in result.text
    assert "15-36%" in result.text
    assert "inflammation, oestrogen or in pregnancy" in result.text


def test_the_source_range_is_named_when_no_laboratory_range_is_given():
    result = interpret_caeruloplasmin(0.3, "g/L")

    assert "Within the reference range the source gives (0.2-0.5 g/L)." in result.text
    assert result.reference_range.source == sources.EASL_2012


def test_a_laboratory_range_replaces_the_source_range():
    lab = lab_reference_range("caeruloplasmin", low=0.25, high=0.6, unit="g/L")

    high_by_source = interpret_caeruloplasmin(0.55, "g/L")
    normal_by_lab = interpret_caeruloplasmin(0.55, "g/L", reference_range=lab)
    low_by_lab = interpret_caeruloplasmin(0.22, "g/L", reference_range=lab)

    assert high_by_source.flag is Flag.HIGH
    assert normal_by_lab.flag is Flag.NORMAL
    assert "Within the laboratory's reference range (0.25-0.6 g/L)." in normal_by_lab.text
    assert "the laboratory's own reference range" in normal_by_lab.source
    assert (low_by_lab.flag, low_by_lab.leipzig_points) == (Flag.LOW, 0)


def test_a_leipzig_band_is_flagged_even_inside_a_laboratorys_range():
    lab = lab_reference_range("caeruloplasmin", low=15, high=45, unit="mg/dL")

    result = interpret_caeruloplasmin(0.18, "g/L", reference_range=lab)

    assert result.flag is Flag.LOW
    assert result.leipzig_points == 1
    assert "Within the laboratory's reference range (0.15-0.45 g/L)." in result.text


def test_a_range_of_another_analyte_is_refused():
    urine = lab_reference_range("urinary_copper_24h", low=None, high=0.6, unit="µmol/24 h")

    with pytest.raises(InvalidInput) as raised:
        interpret_caeruloplasmin(0.3, "g/L", reference_range=urine)

    assert raised.value.field == "reference_range"


@given(low=amounts, high=amounts)
def test_less_caeruloplasmin_never_scores_fewer_leipzig_points(low, high):
    low, high = sorted((low, high))

    assert (
        interpret_caeruloplasmin(low, "g/L").leipzig_points
        >= interpret_caeruloplasmin(high, "g/L").leipzig_points
    )


# Basal 24-hour urinary copper (EASL 2012; Roberts & Schilsky)


@pytest.mark.parametrize(
    ("umol", "flag", "words"),
    [
        (2.0, Flag.HIGH, "typical of symptomatic Wilson disease"),
        (1.61, Flag.HIGH, "typical of symptomatic Wilson disease"),
        (1.6, Flag.HIGH, "intermediate range, found in about half of presymptomatic"),
        (0.9, Flag.HIGH, "intermediate range"),
        (0.89, Flag.HIGH, "suggestive of Wilson disease; the source gives this as the cut-off"),
        (0.65, Flag.HIGH, "used in children"),
        (0.64, Flag.NOT_FLAGGED, "Not above 0.64 µmol/24 h"),
        (0.2, Flag.NOT_FLAGGED, "no value that excludes Wilson disease"),
    ],
)
def test_urinary_copper_cut_offs(umol, flag, words):
    result = interpret_urinary_copper(umol, "µmol/24 h")

    assert result.flag is flag
    assert words in result.text
    assert result.leipzig_points is None
    assert sources.EASL_2012 in result.source


def test_the_intermediate_band_also_says_it_passes_the_childrens_cut_off():
    result = interpret_urinary_copper(1.2, "µmol/24 h")

    assert "the suggestive cut-off the source gives for children" in result.text


def test_urinary_copper_in_micrograms_uses_the_micromole_cut_offs():
    # 100 µg/24 h is 1.57 µmol/24 h: not above 1.6, so intermediate (see test_lab_units).
    result = interpret_urinary_copper(100, "µg/24 h")

    assert result.text.startswith("100 µg/24 h = 1.57 µmol/24 h.")
    assert "intermediate range" in result.text


@pytest.mark.parametrize(
    ("umol", "flag", "points"),
    [(0.5, Flag.NORMAL, 0), (0.6, Flag.NORMAL, 0), (1.0, Flag.HIGH, 1), (1.3, Flag.HIGH, 2)],
)
def test_a_laboratory_upper_limit_gives_the_leipzig_item(umol, flag, points):
    lab = lab_reference_range("urinary_copper_24h", low=None, high=0.6, unit="µmol/24 h")

    result = interpret_urinary_copper(umol, "µmol/24 h", reference_range=lab)

    assert (result.flag, result.leipzig_points) == (flag, points)
    assert f"it scores {points} in the Leipzig score" in result.text


def test_below_a_laboratorys_low_bound_is_low():
    lab = lab_reference_range("urinary_copper_24h", low=0.1, high=None, unit="µmol/24 h")

    result = interpret_urinary_copper(0.05, "µmol/24 h", reference_range=lab)

    assert result.flag is Flag.LOW
    assert result.leipzig_points is None


@given(umol=amounts)
def test_urinary_copper_is_high_exactly_when_above_the_lowest_cut_off(umol):
    assert (interpret_urinary_copper(umol, "µmol/24 h").flag is Flag.HIGH) is (umol > 0.64)


# Serum copper and non-caeruloplasmin copper (EASL via a secondary summary)


def test_serum_copper_alone_is_flagged_only_against_a_laboratory_range():
    lab = lab_reference_range("serum_copper", low=11, high=22, unit="µmol/L")

    assert interpret_serum_copper(15, "µmol/L").flag is Flag.NOT_FLAGGED
    assert interpret_serum_copper(15, "µmol/L", reference_range=lab).flag is Flag.NORMAL
    assert interpret_serum_copper(5, "µmol/L", reference_range=lab).flag is Flag.LOW
    assert interpret_serum_copper(30, "µmol/L", reference_range=lab).flag is Flag.HIGH


@pytest.mark.parametrize(
    ("copper", "protein", "expected", "flag"),
    [
        ((10, "µmol/L"), (0.1, "g/L"), 320.46, Flag.HIGH),  # 635.46 - 3.15 x 100
        ((15, "µmol/L"), (0.3, "g/L"), 8.19, Flag.NOT_FLAGGED),  # 953.19 - 945
        ((200, "µg/L"), (0, "g/L"), 200.0, Flag.NOT_FLAGGED),  # at 200: not above it
        ((20.01, "µg/dL"), (0, "mg/dL"), 200.1, Flag.HIGH),
        ((5, "µmol/L"), (30, "mg/dL"), -627.27, Flag.NOT_INTERPRETABLE),
    ],
)
def test_non_caeruloplasmin_copper(copper, protein, expected, flag):
    result = non_caeruloplasmin_copper(
        serum_copper=copper[0],
        serum_copper_unit=copper[1],
        caeruloplasmin=protein[0],
        caeruloplasmin_unit=protein[1],
    )

    assert result.value.value == pytest.approx(expected, abs=1e-9)
    assert result.value.unit is Unit.UG_PER_L
    assert result.flag is flag
    assert "secondary" in result.text
    assert result.source == sources.EASL_NCC_SECONDARY


@given(copper=amounts, more=amounts, protein=amounts)
def test_non_caeruloplasmin_copper_rises_with_copper(copper, more, protein):
    def estimate(umol):
        return non_caeruloplasmin_copper(
            serum_copper=umol,
            serum_copper_unit="µmol/L",
            caeruloplasmin=protein,
            caeruloplasmin_unit="g/L",
        ).value.value

    assert estimate(copper + more) >= estimate(copper)


# All results together


def test_both_copper_and_caeruloplasmin_add_the_non_caeruloplasmin_estimate():
    results = interpret_results(
        {
            "caeruloplasmin": (8, "mg/dL"),
            Analyte.SERUM_COPPER: (10, "µmol/L"),
            "urinary_copper_24h": (2.0, "µmol/24 h"),
        }
    )

    assert [r.name for r in results] == [
        "serum caeruloplasmin",
        "serum copper",
        "24-hour urinary copper",
        "non-caeruloplasmin copper",
    ]


def test_caeruloplasmin_alone_gives_no_estimate_and_a_laboratory_range_is_used():
    lab = lab_reference_range("caeruloplasmin", low=0.25, high=0.6, unit="g/L")

    (result,) = interpret_results(
        {"caeruloplasmin": (0.55, "g/L")}, reference_ranges={Analyte.CAERULOPLASMIN: lab}
    )

    assert result.flag is Flag.NORMAL


@pytest.mark.parametrize(
    ("results", "field"),
    [
        ({"copper": (1, "µmol/L")}, "analyte"),
        ({"caeruloplasmin": 0.3}, "caeruloplasmin"),
        ({"caeruloplasmin": (0.3,)}, "caeruloplasmin"),
        ({"serum_copper": (1, "g/L")}, "unit"),
    ],
)
def test_bad_results_are_refused(results, field):
    with pytest.raises(InvalidInput) as raised:
        interpret_results(results)

    assert raised.value.field == field


@given(protein=amounts, copper=amounts, urine=amounts)
def test_no_result_is_ever_read_as_excluding_wilson_disease(protein, copper, urine):
    results = interpret_results(
        {
            "caeruloplasmin": (protein, "g/L"),
            "serum_copper": (copper, "µmol/L"),
            "urinary_copper_24h": (urine, "µmol/24 h"),
        }
    )

    assert all(_never_excludes(result.text) for result in results)
    assert all(result.source for result in results)
