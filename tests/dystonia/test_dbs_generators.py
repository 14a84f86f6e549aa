"""A DBS setting against its generator's programmable range (Boston Scientific Vercise
programming manual: 0.1-20 mA, at most 12.7 mA on one contact, 10-450 µs, 2-255 Hz); a
generator not in the catalogue is refused only what is physically impossible."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia import sources
from dystonia.dbs_generators import GENERATORS, check_programmable
from dystonia.errors import InvalidInput

OK = {"amplitude": 3.0, "unit": "mA", "pulse_width_us": 60, "frequency_hz": 130}


def _check(generator="vercise", *, single_contact=True, **changes):
    check_programmable(generator, single_contact=single_contact, **(OK | changes))


def _refused(generator="vercise", *, single_contact=True, **changes) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        _check(generator, single_contact=single_contact, **changes)
    return refused.value


def test_the_catalogue_holds_the_vercise_with_its_labelled_range():
    vercise = GENERATORS["vercise"]
    assert vercise.amplitude["mA"].low == 0.1
    assert vercise.amplitude["mA"].high == 20
    assert "V" not in vercise.amplitude
    assert vercise.contact_current_ma == 12.7
    assert (vercise.pulse_width_us.low, vercise.pulse_width_us.high) == (10, 450)
    assert (vercise.frequency_hz.low, vercise.frequency_hz.high) == (2, 255)
    assert vercise.source == sources.BOSTON_VERCISE_PROGRAMMING


@pytest.mark.parametrize(
    "changes",
    [
        {"amplitude": 0.1},
        {"amplitude": 12.7},
        {"pulse_width_us": 10},
        {"pulse_width_us": 450},
        {"frequency_hz": 2},
        {"frequency_hz": 255},
    ],
)
def test_the_edges_of_the_range_are_allowed(changes):
    _check(**changes)


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"amplitude": 0.09}, "amplitude", "0.1 to 20 mA for the Boston Scientific Vercise"),
        ({"amplitude": 20.01}, "amplitude", "0.1 to 20 mA for the Boston Scientific Vercise"),
        ({"amplitude": 12.71}, "amplitude", "at most 12.7 mA on one contact"),
        ({"unit": "V"}, "unit", "mA for the Boston Scientific Vercise"),
        ({"pulse_width_us": 9}, "pulse_width_us", "10 to 450 µs"),
        ({"pulse_width_us": 451}, "pulse_width_us", "10 to 450 µs"),
        ({"frequency_hz": 1.9}, "frequency_hz", "2 to 255 Hz"),
        ({"frequency_hz": 256}, "frequency_hz", "2 to 255 Hz"),
    ],
)
def test_a_setting_beyond_the_vercise_range_is_refused_naming_the_field(changes, field, allowed):
    refused = _refused(**changes)

    assert refused.field == field
    assert allowed in refused.allowed


def test_the_per_contact_limit_applies_only_when_one_contact_carries_it_all():
    _check(amplitude=15, single_contact=False)  # shared between contacts: up to 20 mA
    assert _refused(amplitude=15).field == "amplitude"


@pytest.mark.parametrize("generator", [None, "other", "activa-pc"])
def test_an_unknown_generator_is_refused_only_the_impossible(generator):
    _check(generator, amplitude=12, unit="V", pulse_width_us=1000, frequency_hz=1000)
    _check(generator, amplitude=0, unit="V", pulse_width_us=1, frequency_hz=0.5)
    for changes, field in [
        ({"amplitude": -0.1}, "amplitude"),
        ({"pulse_width_us": 0}, "pulse_width_us"),
        ({"pulse_width_us": -60}, "pulse_width_us"),
        ({"frequency_hz": 0}, "frequency_hz"),
        ({"unit": "A"}, "unit"),
        ({"unit": None}, "unit"),
    ]:
        assert _refused(generator, **changes).field == field


@pytest.mark.parametrize(
    "bad", ["3", None, True, float("nan"), float("inf"), 10**400, [1], {"v": 1}]
)
def test_anything_but_a_finite_number_is_refused(bad):
    for field in ("amplitude", "pulse_width_us", "frequency_hz"):
        assert _refused(None, **{field: bad}).field == field


@given(st.floats(min_value=0.1, max_value=20, allow_nan=False))
def test_any_amplitude_in_range_is_allowed_when_shared(milliamperes):
    _check(amplitude=milliamperes, single_contact=False)


@given(st.floats(min_value=20, max_value=1e6, allow_nan=False, exclude_min=True))
def test_any_amplitude_over_the_range_is_refused(milliamperes):
    assert _refused(amplitude=milliamperes, single_contact=False).field == "amplitude"
