"""DBS charge density against the Medtronic 3387/3389 labelling (0.06 cm², 30 µC/cm²/phase)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dystonia import sources
from dystonia.dbs import LEADS, Lead, charge_density, check_setting
from dystonia.errors import InvalidInput

# Ranges to draw test settings from, not limits.
volts = st.floats(min_value=0, max_value=10.5, allow_nan=False)
milliamperes = st.floats(min_value=0, max_value=25.5, allow_nan=False)
widths = st.floats(min_value=10, max_value=450, allow_nan=False)
impedances = st.floats(min_value=250, max_value=4000, allow_nan=False)


def test_the_catalogue_holds_the_medtronic_leads_with_the_labelled_figures():
    for model in ("3387", "3389"):
        lead = LEADS[model]
        assert lead.manufacturer == "Medtronic"
        assert lead.contact_area_cm2 == 0.06
        assert lead.charge_density_limit_uc_per_cm2 == 30.0
        assert sources.MEDTRONIC_3387_3389_IFU in lead.source


def test_3389_at_3_5_volts_1000_ohms_90_microseconds():
    result = charge_density("3389", amplitude=3.5, unit="V", pulse_width_us=90, impedance_ohm=1000)

    assert result.current_ma == 3.5
    assert result.charge_per_phase_uc == pytest.approx(0.315)
    assert result.density_uc_per_cm2 == pytest.approx(5.25)
    assert (
        check_setting(
            "3389", amplitude=3.5, unit="V", pulse_width_us=90, impedance_ohm=1000
        ).warning
        is None
    )


def test_the_labelling_example_a_is_under_the_limit_even_at_500_ohms():
    # Figure 23, example A: 3 V, 90 µs; under 30 µC/cm² even at 500 ohms.
    result = check_setting("3387", amplitude=3, unit="V", pulse_width_us=90, impedance_ohm=500)

    assert result.charge_density.density_uc_per_cm2 == pytest.approx(9.0)
    assert result.warning is None


def test_the_labelling_example_b_is_over_the_limit_at_500_ohms_but_not_at_1348():
    # Figure 23, example B: 6.1 V, 210 µs; in the warning zone at 500 ohms, under the limit at
    # 1,348 ohms (the mean impedance in the clinical studies).
    at_500 = check_setting("3387", amplitude=6.1, unit="V", pulse_width_us=210, impedance_ohm=500)
    at_1348 = check_setting("3387", amplitude=6.1, unit="V", pulse_width_us=210, impedance_ohm=1348)

    assert at_500.charge_density.charge_per_phase_uc == pytest.approx(2.562)
    assert at_500.charge_density.density_uc_per_cm2 == pytest.approx(42.7)
    assert at_500.warning is not None
    assert at_500.warning.limit_uc_per_cm2 == 30.0
    assert at_500.warning.text == (
        "Charge density 42.7 µC/cm²/phase exceeds the 30 µC/cm²/phase limit Medtronic "
        "publishes for the 3387 lead; the manufacturer warns that the charge density may be "
        "high enough to cause tissue damage."
    )
    assert sources.MEDTRONIC_3387_3389_IFU in at_500.warning.source
    assert at_1348.charge_density.density_uc_per_cm2 == pytest.approx(15.838, abs=1e-3)
    assert at_1348.warning is None


def test_current_controlled_settings_need_no_impedance():
    result = charge_density("3389", amplitude=3, unit="mA", pulse_width_us=60)

    assert result.charge_per_phase_uc == pytest.approx(0.18)
    assert result.density_uc_per_cm2 == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("amplitude", "unit", "width", "impedance"),
    [(10, "mA", 180, None), (6, "V", 300, 1000), (1.8, "mA", 1000, None)],
)
def test_exactly_the_limit_gives_no_warning(amplitude, unit, width, impedance):
    result = check_setting(
        "3389", amplitude=amplitude, unit=unit, pulse_width_us=width, impedance_ohm=impedance
    )

    assert result.charge_density.density_uc_per_cm2 == 30.0
    assert result.warning is None


def test_just_over_the_limit_warns():
    result = check_setting("3389", amplitude=6, unit="V", pulse_width_us=301, impedance_ohm=1000)

    assert result.warning is not None


def test_unusual_but_safe_settings_get_no_warning():
    # Long pulse width, low amplitude: outside the typical 2.5-4.5 V but under the limit.
    result = check_setting("3387", amplitude=0.5, unit="V", pulse_width_us=450, impedance_ohm=600)

    assert result.warning is None
    assert check_setting("3387", amplitude=0, unit="mA", pulse_width_us=60).warning is None


def test_a_lead_can_be_given_as_a_lead():
    lead = Lead("X", "Maker", 0.1, 30.0, "made up")

    assert charge_density(lead, amplitude=1, unit="mA", pulse_width_us=100).density_uc_per_cm2 == 1


@pytest.mark.parametrize(
    ("lead", "setting", "field"),
    [
        ("3391", (3, "V", 90, 1000), "lead"),
        (None, (3, "V", 90, 1000), "lead"),
        ("3389", (3, "mV", 90, 1000), "unit"),
        ("3389", (-0.1, "V", 90, 1000), "amplitude"),
        ("3389", (math.nan, "V", 90, 1000), "amplitude"),
        ("3389", (math.inf, "mA", 90, None), "amplitude"),
        ("3389", ("3", "V", 90, 1000), "amplitude"),
        ("3389", (True, "V", 90, 1000), "amplitude"),
        ("3389", (3, "V", 0, 1000), "pulse_width_us"),
        ("3389", (3, "V", -60, 1000), "pulse_width_us"),
        ("3389", (3, "V", math.inf, 1000), "pulse_width_us"),
        ("3389", (3, "V", 90, None), "impedance_ohm"),
        ("3389", (3, "V", 90, 0), "impedance_ohm"),
        ("3389", (3, "V", 90, -500), "impedance_ohm"),
        ("3389", (3, "mA", 90, math.nan), "impedance_ohm"),
    ],
)
def test_refusals_name_the_field(lead, setting, field):
    amplitude, unit, width, impedance = setting

    with pytest.raises(InvalidInput) as raised:
        check_setting(
            lead, amplitude=amplitude, unit=unit, pulse_width_us=width, impedance_ohm=impedance
        )

    assert raised.value.field == field


@given(a=volts, b=volts, width=widths, impedance=impedances)
def test_density_never_falls_as_voltage_rises(a, b, width, impedance):
    low, high = sorted((a, b))

    def density(amplitude):
        return charge_density(
            "3389", amplitude=amplitude, unit="V", pulse_width_us=width, impedance_ohm=impedance
        ).density_uc_per_cm2

    assert density(low) <= density(high)


@given(a=widths, b=widths, amplitude=milliamperes)
def test_density_never_falls_as_pulse_width_rises(a, b, amplitude):
    low, high = sorted((a, b))

    def density(width):
        return charge_density(
            "3387", amplitude=amplitude, unit="mA", pulse_width_us=width
        ).density_uc_per_cm2

    assert density(low) <= density(high)


@given(amplitude=milliamperes, width=widths)
def test_a_warning_exactly_when_over_the_limit(amplitude, width):
    result = check_setting("3389", amplitude=amplitude, unit="mA", pulse_width_us=width)

    over = amplitude * width / 1000 / 0.06 > 30 * (1 + 1e-12)
    under = amplitude * width / 1000 / 0.06 < 30 * (1 - 1e-12)
    if over:
        assert result.warning is not None
    if under:
        assert result.warning is None


def test_an_integer_beyond_any_float_is_refused():
    with pytest.raises(InvalidInput) as raised:
        charge_density("3389", amplitude=10**400, unit="mA", pulse_width_us=60)

    assert raised.value.field == "amplitude"
