"""Whether a DBS setting is within the programmable range of its generator, as the
manufacturer's labelling gives it; for a generator not in the catalogue, only what is
physically impossible is refused (a negative amplitude, a pulse width or frequency that is not
above 0), since no range is known.

The catalogue holds only generators whose programmable range was found in the manufacturer's
labelling (docs/treatment.md lists those looked for and not found, such as Medtronic's).

>>> check_programmable("vercise", amplitude=3, unit="mA", pulse_width_us=60, frequency_hz=130,
...                    single_contact=True)
>>> check_programmable(None, amplitude=12, unit="V", pulse_width_us=60, frequency_hz=130,
...                    single_contact=True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from dystonia import sources
from dystonia.dbs import AmplitudeUnit
from dystonia.errors import InvalidInput


@dataclass(frozen=True)
class NumberRange:
    """An inclusive range of a parameter, in its unit."""

    low: float
    high: float

    def text(self, unit: str) -> str:
        return f"{self.low:g} to {self.high:g} {unit}"


@dataclass(frozen=True)
class Generator:
    """A generator's programmable range from its labelling. ``amplitude`` maps each unit it is
    programmed in to its range (a unit absent is not programmable on it);
    ``contact_current_ma`` is the most one contact may carry, when the labelling gives it."""

    key: str
    name: str
    amplitude: MappingProxyType[AmplitudeUnit, NumberRange]
    contact_current_ma: float | None
    pulse_width_us: NumberRange
    frequency_hz: NumberRange
    source: str


# Vercise DBS Programming Manual, "Stimulator Programmable Characteristics": "Amplitude 0.1 mA
# to 20 mA; Rate 2 Hz to 255 Hz; Pulse Width 10 µs to 450 µs"; "The programmable coverage for
# each individual contact is limited to 12.7 mA ... the total output current to 20 mA or less
# per coverage area". The range is given in mA only (a current-controlled stimulator).
VERCISE: Final = Generator(
    key="vercise",
    name="Boston Scientific Vercise",
    amplitude=MappingProxyType({AmplitudeUnit.MILLIAMPERE: NumberRange(0.1, 20)}),
    contact_current_ma=12.7,
    pulse_width_us=NumberRange(10, 450),
    frequency_hz=NumberRange(2, 255),
    source=sources.BOSTON_VERCISE_PROGRAMMING,
)

GENERATORS: Final = MappingProxyType({VERCISE.key: VERCISE})


def _number(value: object, *, field: str, allowed: str) -> Fraction:
    """The value as the exact decimal it is written as, or InvalidInput for anything that is
    not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field=field, value=value, allowed=allowed)
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        raise InvalidInput(field=field, value=value, allowed=allowed) from None
    if not math.isfinite(number):
        raise InvalidInput(field=field, value=value, allowed=allowed)
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def _within(value: Fraction, allowed: NumberRange) -> bool:
    return Fraction(repr(allowed.low)) <= value <= Fraction(repr(allowed.high))


def _physical(
    amplitude: object, unit: object, pulse_width_us: object, frequency_hz: object
) -> tuple[AmplitudeUnit, Fraction, Fraction, Fraction]:
    units = {u.value: u for u in AmplitudeUnit}
    if not isinstance(unit, str) or unit not in units:
        raise InvalidInput(field="unit", value=unit, allowed="'V' or 'mA'")
    mode = units[unit]
    volts_or_ma = _number(amplitude, field="amplitude", allowed="a number of 0 or more")
    if volts_or_ma < 0:
        raise InvalidInput(field="amplitude", value=amplitude, allowed="a number of 0 or more")
    width = _number(pulse_width_us, field="pulse_width_us", allowed="a number above 0")
    if width <= 0:
        raise InvalidInput(field="pulse_width_us", value=pulse_width_us, allowed="above 0")
    rate = _number(frequency_hz, field="frequency_hz", allowed="a number above 0")
    if rate <= 0:
        raise InvalidInput(field="frequency_hz", value=frequency_hz, allowed="above 0")
    return mode, volts_or_ma, width, rate


def check_programmable(
    generator: str | None,
    *,
    amplitude: object,
    unit: object,
    pulse_width_us: object,
    frequency_hz: object,
    single_contact: bool,
) -> None:
    """Raise InvalidInput (naming ``amplitude``, ``unit``, ``pulse_width_us`` or
    ``frequency_hz``) for a setting the generator cannot deliver. ``generator`` is a key of
    GENERATORS; None or another key checks only what is physically impossible.
    ``single_contact``: one contact carries the whole amplitude (a single cathode, or a single
    anode on the lead), so a per-contact limit applies to it.
    """
    mode, volts_or_ma, width, rate = _physical(amplitude, unit, pulse_width_us, frequency_hz)
    known = GENERATORS.get(generator) if generator is not None else None
    if known is None:
        return
    amplitude_range = known.amplitude.get(mode)
    if amplitude_range is None:
        units = " or ".join(str(u.value) for u in known.amplitude)
        raise InvalidInput(field="unit", value=str(unit), allowed=f"{units} for the {known.name}")
    if not _within(volts_or_ma, amplitude_range):
        allowed = f"{amplitude_range.text(mode.value)} for the {known.name}"
        raise InvalidInput(field="amplitude", value=amplitude, allowed=allowed)
    limit = known.contact_current_ma
    if (
        single_contact
        and limit is not None
        and mode is AmplitudeUnit.MILLIAMPERE
        and volts_or_ma > Fraction(repr(limit))
    ):
        allowed = f"at most {limit:g} mA on one contact for the {known.name}"
        raise InvalidInput(field="amplitude", value=amplitude, allowed=allowed)
    if not _within(width, known.pulse_width_us):
        allowed = f"{known.pulse_width_us.text('µs')} for the {known.name}"
        raise InvalidInput(field="pulse_width_us", value=pulse_width_us, allowed=allowed)
    if not _within(rate, known.frequency_hz):
        allowed = f"{known.frequency_hz.text('Hz')} for the {known.name}"
        raise InvalidInput(field="frequency_hz", value=frequency_hz, allowed=allowed)
