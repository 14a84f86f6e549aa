"""Charge density per phase of a deep brain stimulation setting, against the limit the lead's
manufacturer publishes.

Charge per phase Q = I x PW; for voltage-controlled stimulation I = V / impedance, so the
contact's measured impedance is needed. Charge density = Q / contact surface area, in
µC/cm²/phase. For one active contact, with that contact's impedance. A warning is given only
when the manufacturer's limit is exceeded; a setting that is unusual but under the limit gets
none (clinical.md section 6.2 lists typical settings for form validation, not as limits).

>>> round(charge_density("3389", amplitude=3.5, unit="V", pulse_width_us=90,
...                      impedance_ohm=1000).density_uc_per_cm2, 2)
5.25
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


@dataclass(frozen=True)
class Lead:
    """A DBS lead model with the contact surface area and the charge-density limit its
    manufacturer publishes."""

    model: str
    manufacturer: str
    contact_area_cm2: float
    charge_density_limit_uc_per_cm2: float
    source: str


# Medtronic 3387/3389 IFU, figure 23: "Elektrodenoberfläche der DBS-Elektroden Modell 3387 und
# Modell 3389: 0,06 cm² / Grenzwert für die Ladungsdichte: 30 µC/cm²/Impuls".
MEDTRONIC_3387_3389_CONTACT_AREA_CM2: Final = 0.06
MEDTRONIC_3387_3389_LIMIT_UC_PER_CM2: Final = 30.0
_MEDTRONIC_SOURCE: Final = f"{sources.MEDTRONIC_3387_3389_IFU}; {sources.MEDTRONIC_DBS_WARNINGS}"

LEADS: Final = MappingProxyType(
    {
        model: Lead(
            model=model,
            manufacturer="Medtronic",
            contact_area_cm2=MEDTRONIC_3387_3389_CONTACT_AREA_CM2,
            charge_density_limit_uc_per_cm2=MEDTRONIC_3387_3389_LIMIT_UC_PER_CM2,
            source=_MEDTRONIC_SOURCE,
        )
        for model in ("3387", "3389")
    }
)


class AmplitudeUnit(StrEnum):
    """Voltage-controlled (V) or current-controlled (mA) stimulation."""

    VOLT = "V"
    MILLIAMPERE = "mA"


@dataclass(frozen=True)
class ChargeDensity:
    """The current, charge per phase and charge density of one setting on one contact."""

    lead: Lead
    current_ma: float
    charge_per_phase_uc: float
    density_uc_per_cm2: float


@dataclass(frozen=True)
class ChargeDensityWarning:
    """The setting exceeds the manufacturer's published limit."""

    text: str
    limit_uc_per_cm2: float
    source: str


@dataclass(frozen=True)
class SettingCheck:
    """A setting's charge density, and the warning when it exceeds the lead's limit."""

    charge_density: ChargeDensity
    warning: ChargeDensityWarning | None


def _lead(lead: Lead | str) -> Lead:
    if isinstance(lead, Lead):
        return lead
    found = LEADS.get(lead) if isinstance(lead, str) else None
    if found is None:
        raise InvalidInput(field="lead", value=lead, allowed="one of " + ", ".join(LEADS))
    return found


def _decimal(value: object, *, field: str, positive: bool) -> Fraction:
    """The number as the decimal it is written as (6.1 V is 61/10), so arithmetic is exact and
    a density equal to the limit is not pushed over it by rounding."""
    allowed = "a finite number above 0" if positive else "a finite number of 0 or more"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field=field, value=value, allowed=allowed)
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        raise InvalidInput(field=field, value=value, allowed=allowed) from None
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise InvalidInput(field=field, value=value, allowed=allowed)
    return Fraction(repr(value))


def _current_ma(amplitude: Fraction, unit: AmplitudeUnit, impedance_ohm: object) -> Fraction:
    if unit is AmplitudeUnit.MILLIAMPERE:
        if impedance_ohm is not None:  # not used, but a bad value is still refused
            _decimal(impedance_ohm, field="impedance_ohm", positive=True)
        return amplitude
    if impedance_ohm is None:
        raise InvalidInput(
            field="impedance_ohm",
            value=None,
            allowed="the contact's measured impedance for a voltage-controlled setting",
        )
    impedance = _decimal(impedance_ohm, field="impedance_ohm", positive=True)
    return amplitude / impedance * 1000  # V / ohm = A; x 1000 for mA


def _exact(
    lead: Lead | str,
    *,
    amplitude: object,
    unit: AmplitudeUnit | str,
    pulse_width_us: object,
    impedance_ohm: object,
) -> tuple[Lead, Fraction, Fraction, Fraction]:
    """The lead, current (mA), charge per phase (µC) and density (µC/cm²), exactly."""
    known = _lead(lead)
    try:
        mode = AmplitudeUnit(unit)
    except ValueError:
        raise InvalidInput(field="unit", value=unit, allowed="'V' or 'mA'") from None
    volts_or_ma = _decimal(amplitude, field="amplitude", positive=False)
    width_us = _decimal(pulse_width_us, field="pulse_width_us", positive=True)
    current_ma = _current_ma(volts_or_ma, mode, impedance_ohm)
    charge_uc = current_ma * width_us / 1000  # mA x µs = nC; / 1000 for µC
    density = charge_uc / Fraction(repr(known.contact_area_cm2))
    return known, current_ma, charge_uc, density


def _rounded(
    lead: Lead, current_ma: Fraction, charge_uc: Fraction, density: Fraction
) -> ChargeDensity:
    return ChargeDensity(
        lead=lead,
        current_ma=float(current_ma),
        charge_per_phase_uc=float(charge_uc),
        density_uc_per_cm2=float(density),
    )


def charge_density(
    lead: Lead | str,
    *,
    amplitude: object,
    unit: AmplitudeUnit | str,
    pulse_width_us: object,
    impedance_ohm: object = None,
) -> ChargeDensity:
    """Charge per phase (µC) and charge density (µC/cm²/phase) of one contact of ``lead``
    (a catalogue model such as "3389", or a Lead).

    ``amplitude`` is in volts (``unit`` "V", which needs ``impedance_ohm``) or milliamperes
    ("mA", where an impedance is not used). Raises InvalidInput for an unknown lead or unit,
    a negative or non-finite amplitude, a pulse width that is not above 0, or a voltage
    without a positive impedance. Exact arithmetic, rounded once, so the density never falls
    when the amplitude or the pulse width rises.
    """
    exact = _exact(
        lead,
        amplitude=amplitude,
        unit=unit,
        pulse_width_us=pulse_width_us,
        impedance_ohm=impedance_ohm,
    )
    return _rounded(*exact)


def check_setting(
    lead: Lead | str,
    *,
    amplitude: object,
    unit: AmplitudeUnit | str,
    pulse_width_us: object,
    impedance_ohm: object = None,
) -> SettingCheck:
    """The setting's charge density, with a warning citing the manufacturer's limit when the
    density exceeds it (a density equal to the limit is not over it). Advice for the
    clinician, never a block. Raises InvalidInput as ``charge_density`` does.
    """
    exact = _exact(
        lead,
        amplitude=amplitude,
        unit=unit,
        pulse_width_us=pulse_width_us,
        impedance_ohm=impedance_ohm,
    )
    known, density = exact[0], exact[3]
    result = _rounded(*exact)
    limit = known.charge_density_limit_uc_per_cm2
    if density <= Fraction(repr(limit)):
        return SettingCheck(charge_density=result, warning=None)
    text = (
        f"Charge density {result.density_uc_per_cm2:.3g} µC/cm²/phase exceeds the "
        f"{limit:g} µC/cm²/phase limit {known.manufacturer} publishes for the {known.model} "
        "lead; the manufacturer warns that the charge density may be high enough to cause "
        "tissue damage."
    )
    warning = ChargeDensityWarning(text=text, limit_uc_per_cm2=limit, source=known.source)
    return SettingCheck(charge_density=result, warning=warning)
