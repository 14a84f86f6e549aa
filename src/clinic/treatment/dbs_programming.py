"""DBS programming sessions: when, by whom, at which encounter, side effects and notes, and one
setting per hemisphere (the lead's contacts and their polarity, amplitude in V or mA, pulse
width, frequency, each active contact's impedance).

On save, each setting is checked against its generator's programmable range
(dystonia.dbs_generators: refused beyond it, 400; for a generator not in the catalogue only
the physically impossible is refused), and the core computes the charge density of each active
contact (dystonia.dbs.check_setting), kept with the setting with the core's warning when it
exceeds the limit the lead's manufacturer publishes. That warning advises and never blocks. Each
active contact is checked as if it alone carried the setting: the worst case, since a current
shared between contacts puts less on each. A lead not in the catalogue has no published limit,
so its charge density is not computed (the page says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.treatment.dbs import OTHER, local_day, not_before_implant, system_found
from clinic.treatment.models import (
    AmplitudeUnit,
    DbsLead,
    DbsProgramming,
    DbsSetting,
    DbsSystem,
    Hemisphere,
)
from clinic.treatment.models.dbs import (
    AMPLITUDE_DECIMAL_PLACES,
    AMPLITUDE_MAX_DIGITS,
    FREQUENCY_DECIMAL_PLACES,
    FREQUENCY_MAX_DIGITS,
    NOTES_MAX_LENGTH,
)
from clinic.treatment.rules import (
    TreatmentRefused,
    check_encounter,
    check_text,
    found_for_clinician,
    lock_patient,
    refusals_audited,
)
from dystonia.dbs import LEADS, check_setting
from dystonia.dbs_generators import check_programmable
from dystonia.errors import InvalidInput

CASE = "case"
POLARITIES = ("-", "+", "off")
POLARITY_LABELS = {"-": "negative (cathode)", "+": "positive (anode)", "off": "off"}
# An operational bound on an impedance reading (a broken lead reads a few thousand ohms).
IMPEDANCE_MAX_OHM = 100_000
MAX_PULSE_WIDTH_US = 32_767  # the column's bound
AHEAD = timedelta(minutes=5)  # clock drift between devices

NO_SETTINGS = "Record a setting for at least one hemisphere."
TWO_SETTINGS = "Record one setting per hemisphere."
NO_LEAD = "This system has no {hemisphere} lead: add the lead first."
BAD_CONTACTS = (
    "Give each contact's polarity as negative, positive or off, for contacts 0 to {last} and "
    "the case."
)
NO_CIRCUIT = (
    "Choose at least one negative (cathode) and one positive (anode) contact, with at least "
    "one on the lead; the case can be the positive one."
)
BAD_AMPLITUDE = "Enter the amplitude as a number, for example 2.5."
BAD_UNIT = "Choose V or mA."
BAD_PULSE_WIDTH = f"Enter the pulse width in µs as a whole number from 1 to {MAX_PULSE_WIDTH_US:,}."
BAD_FREQUENCY = "Enter the frequency in Hz as a number above 0, for example 130."
TOO_PRECISE = "{label} can have at most {places} decimal places."
TOO_LARGE = "{label} can be at most {limit}."
BAD_IMPEDANCE = (
    f"Enter the impedance in ohms as a whole number from 1 to {IMPEDANCE_MAX_OHM:,}, or leave "
    "it blank."
)
IMPEDANCE_OF_AN_OFF_CONTACT = "Contact {contact} is off: clear its impedance, or make it active."
IMPEDANCE_NEEDED = (
    "Enter the impedance of contact {contact}: a voltage setting's charge density needs it."
)
OUT_OF_RANGE = "{what} of {value} is not allowed: expected {allowed}."
BAD_MOMENT = "Enter the date and time of the session."
MOMENT_IN_FUTURE = "The session cannot be in the future."
MOMENT_BEFORE_IMPLANT = "The session cannot be before the system was implanted."
FIELD_WORDS = {
    "amplitude": "An amplitude",
    "unit": "A unit",
    "pulse_width_us": "A pulse width",
    "frequency_hz": "A frequency",
}

_audit = partial(audit_object, object_type="dbs_programming")


class ProgrammingNotFound(Exception):  # noqa: N818 - reads as the event
    """No DBS programming session has that identifier."""


@dataclass(frozen=True)
class SettingDetails:
    """One hemisphere's setting as a form hands it over: ``contacts`` maps "0", "1"... and
    "case" to "-", "+" or "off" (a contact left out is off); ``impedances`` maps active
    contacts to ohms."""

    hemisphere: str
    contacts: Any
    amplitude: Any
    amplitude_unit: str
    pulse_width_us: Any
    frequency_hz: Any
    impedances: Any = field(default_factory=dict)


@dataclass(frozen=True)
class ProgrammingDetails:
    """A programming session as a form hands it over."""

    programmed_at: Any
    settings: list[SettingDetails]
    encounter: Any = None
    side_effects: str = ""
    notes: str = ""


@dataclass(frozen=True)
class CheckedSetting:
    """A setting as stored, with the core's charge density per active contact and its
    warning (empty when under the limit or not computed)."""

    lead: DbsLead
    contacts: dict[str, str]
    amplitude: Decimal
    amplitude_unit: str
    pulse_width_us: int
    frequency_hz: Decimal
    impedances: dict[str, int]
    charge_density: dict[str, float]
    charge_density_warning: str


# Checking one setting


def _decimal(value: Any, *, field: str, label: str, digits: int, places: int, bad: str) -> Decimal:
    """A Decimal (or int) that fits its column: finite, at most ``places`` decimals."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TreatmentRefused(bad, field=field)
    number = Decimal(value)
    if not number.is_finite():
        raise TreatmentRefused(bad, field=field)
    try:
        quantized = number.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:  # too many digits to quantize
        quantized = number
    if quantized != number:
        raise TreatmentRefused(TOO_PRECISE.format(label=label, places=places), field=field)
    limit = Decimal(10) ** (digits - places) - Decimal(1).scaleb(-places)
    if abs(number) > limit:
        raise TreatmentRefused(TOO_LARGE.format(label=label, limit=limit), field=field)
    return quantized


def _contacts(value: Any, lead: DbsLead, prefix: str) -> dict[str, str]:
    """Every contact of the lead and the case, with its polarity (missing ones off)."""
    keys = [str(n) for n in range(lead.contact_count)] + [CASE]
    bad = TreatmentRefused(
        BAD_CONTACTS.format(last=lead.contact_count - 1), field=f"{prefix}_contacts"
    )
    if not isinstance(value, dict):
        raise bad
    if any(not isinstance(k, str) or k not in keys for k in value):
        raise bad
    if any(not isinstance(v, str) or v not in POLARITIES for v in value.values()):
        raise bad
    contacts = {key: value.get(key, "off") for key in keys}
    on_lead = [contacts[key] for key in keys if key != CASE]
    everywhere = list(contacts.values())
    if all(p == "off" for p in on_lead) or "-" not in everywhere or "+" not in everywhere:
        raise TreatmentRefused(NO_CIRCUIT, field=f"{prefix}_contacts")
    return contacts


def _impedances(value: Any, active: list[str], prefix: str, *, needed: bool) -> dict[str, int]:
    if value is None:
        value = {}
    if not isinstance(value, dict) or any(not isinstance(k, str) for k in value):
        raise TreatmentRefused(BAD_IMPEDANCE, field=f"{prefix}_impedances")
    readings: dict[str, int] = {}
    for contact, ohms in value.items():
        name = f"{prefix}_impedance_{contact}"
        if ohms is None:
            continue
        if contact not in active:
            if contact.isdigit():
                raise TreatmentRefused(
                    IMPEDANCE_OF_AN_OFF_CONTACT.format(contact=contact), field=name
                )
            raise TreatmentRefused(BAD_IMPEDANCE, field=f"{prefix}_impedances")
        if (
            isinstance(ohms, bool)
            or not isinstance(ohms, int)
            or not 1 <= ohms <= IMPEDANCE_MAX_OHM
        ):
            raise TreatmentRefused(BAD_IMPEDANCE, field=name)
        readings[contact] = ohms
    for contact in active if needed else []:
        if contact not in readings:
            raise TreatmentRefused(
                IMPEDANCE_NEEDED.format(contact=contact), field=f"{prefix}_impedance_{contact}"
            )
    return readings


def _in_range(
    system: DbsSystem, setting: dict[str, Any], contacts: dict[str, str], prefix: str
) -> None:
    """Refuse what the generator cannot deliver (the core's catalogue, or physics)."""
    on_lead = [p for key, p in contacts.items() if key != CASE]
    generator = None if system.generator == OTHER else system.generator
    try:
        check_programmable(
            generator,
            amplitude=float(setting["amplitude"]),
            unit=setting["amplitude_unit"],
            pulse_width_us=setting["pulse_width_us"],
            frequency_hz=float(setting["frequency_hz"]),
            single_contact=on_lead.count("-") == 1 or on_lead.count("+") == 1,
        )
    except InvalidInput as problem:
        field_name = "amplitude_unit" if problem.field == "unit" else problem.field
        shown = setting[field_name]
        value = number_text(shown) if isinstance(shown, Decimal) else str(shown)
        unit = {"amplitude": setting["amplitude_unit"], "pulse_width_us": "µs"}.get(field_name, "")
        unit = "Hz" if field_name == "frequency_hz" else unit
        message = OUT_OF_RANGE.format(
            what=FIELD_WORDS.get(problem.field, problem.field),
            value=f"{value} {unit}".strip(),
            allowed=problem.allowed,
        )
        raise TreatmentRefused(message, field=f"{prefix}_{field_name}") from None


def number_text(value: Decimal) -> str:
    """A decimal as written without trailing zeros: 20.50 is "20.5", 13.00 is "13"."""
    return format(value.normalize(), "f")


def _charge_density(
    lead: DbsLead, setting: dict[str, Any], active: list[str], impedances: dict[str, int]
) -> tuple[dict[str, float], str]:
    """The core's density per active contact, and its warnings (one line per contact over
    the lead's limit); nothing for a lead without a published limit."""
    if lead.model not in LEADS:
        return {}, ""
    densities: dict[str, float] = {}
    warnings = []
    for contact in active:
        check = check_setting(
            lead.model,
            amplitude=float(setting["amplitude"]),
            unit=setting["amplitude_unit"],
            pulse_width_us=setting["pulse_width_us"],
            impedance_ohm=impedances.get(contact),
        )
        densities[contact] = round(check.charge_density.density_uc_per_cm2, 2)
        if check.warning is not None:
            side = lead.get_hemisphere_display()
            warnings.append(f"{side} lead, contact {contact}: {check.warning.text}")
    return densities, "\n".join(warnings)


def check_one_setting(
    system: DbsSystem, leads: dict[str, DbsLead], details: SettingDetails
) -> CheckedSetting:
    """One setting as stored, or TreatmentRefused naming the field ("left_amplitude")."""
    hemisphere = details.hemisphere
    if not isinstance(hemisphere, str) or hemisphere not in Hemisphere.values:
        raise TreatmentRefused(TWO_SETTINGS, field="settings")
    lead = leads.get(hemisphere)
    if lead is None:
        raise TreatmentRefused(NO_LEAD.format(hemisphere=hemisphere), field="settings")
    prefix = hemisphere
    contacts = _contacts(details.contacts, lead, prefix)
    unit = details.amplitude_unit
    if not isinstance(unit, str) or unit not in AmplitudeUnit.values:
        raise TreatmentRefused(BAD_UNIT, field=f"{prefix}_amplitude_unit")
    width = details.pulse_width_us
    if (
        isinstance(width, bool)
        or not isinstance(width, int)
        or not 1 <= width <= MAX_PULSE_WIDTH_US
    ):
        # 0 or less is physically impossible; more does not fit the column.
        raise TreatmentRefused(BAD_PULSE_WIDTH, field=f"{prefix}_pulse_width_us")
    setting: dict[str, Any] = {
        "amplitude": _decimal(
            details.amplitude,
            field=f"{prefix}_amplitude",
            label="The amplitude",
            digits=AMPLITUDE_MAX_DIGITS,
            places=AMPLITUDE_DECIMAL_PLACES,
            bad=BAD_AMPLITUDE,
        ),
        "amplitude_unit": unit,
        "pulse_width_us": width,
        "frequency_hz": _decimal(
            details.frequency_hz,
            field=f"{prefix}_frequency_hz",
            label="The frequency",
            digits=FREQUENCY_MAX_DIGITS,
            places=FREQUENCY_DECIMAL_PLACES,
            bad=BAD_FREQUENCY,
        ),
    }
    _in_range(system, setting, contacts, prefix)
    active = [key for key, p in contacts.items() if key != CASE and p != "off"]
    needed = unit == AmplitudeUnit.VOLT and lead.model in LEADS
    impedances = _impedances(details.impedances, active, prefix, needed=needed)
    densities, warning = _charge_density(lead, setting, active, impedances)
    return CheckedSetting(
        lead=lead,
        contacts=contacts,
        impedances=impedances,
        charge_density=densities,
        charge_density_warning=warning,
        **setting,
    )


def _moment(value: Any, system: DbsSystem) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise TreatmentRefused(BAD_MOMENT, field="programmed_at")
    if value > timezone.now() + AHEAD:
        raise TreatmentRefused(MOMENT_IN_FUTURE, field="programmed_at")
    try:
        not_before_implant(local_day(value), system, field="programmed_at", label="")
    except TreatmentRefused:
        raise TreatmentRefused(MOMENT_BEFORE_IMPLANT, field="programmed_at") from None
    return value


def check_programming(
    system: DbsSystem, details: ProgrammingDetails
) -> tuple[dict[str, Any], list[CheckedSetting]]:
    """The session's fields and its settings as stored."""
    values = {
        "programmed_at": _moment(details.programmed_at, system),
        "encounter_id": check_encounter(system.patient, details.encounter),
        "side_effects": check_text(
            details.side_effects, field="side_effects", label="Side effects", limit=NOTES_MAX_LENGTH
        ),
        "notes": check_text(details.notes, field="notes", label="Notes", limit=NOTES_MAX_LENGTH),
    }
    if not isinstance(details.settings, list) or not details.settings:
        raise TreatmentRefused(NO_SETTINGS, field="settings")
    hemispheres = [getattr(s, "hemisphere", None) for s in details.settings]
    if len(set(hemispheres)) != len(hemispheres):
        raise TreatmentRefused(TWO_SETTINGS, field="settings")
    leads = {lead.hemisphere: lead for lead in DbsLead.objects.filter(system=system)}
    return values, [check_one_setting(system, leads, s) for s in details.settings]


# Reads and writes


def programming_for_clinician(*, context: AuditContext, programming_id: int) -> DbsProgramming:
    """One programming session with its system, patient, clinician and settings (an audited
    read). Raises ProgrammingNotFound or AccessRefused (404 for anyone but a clinician)."""
    session, _clinician = found_for_clinician(
        context,
        find=lambda: (
            DbsProgramming.objects.select_related("system__patient", "clinician")
            .filter(pk=programming_id)
            .first()
        ),
        patient_of=lambda found: found.system.patient,
        object_type="dbs_programming",
        object_id=programming_id,
        action=AuditAction.READ,
        not_found=ProgrammingNotFound,
    )
    _audit(context, AuditAction.READ, session, session.system.patient, "dbs programming read")
    return session


def settings_of(session: DbsProgramming) -> list[DbsSetting]:
    """A session's settings with their leads, left first (one query)."""
    rows = DbsSetting.objects.filter(programming=session).select_related("lead")
    return sorted(rows, key=lambda s: Hemisphere.values.index(s.lead.hemisphere))


def dbs_programming_record(
    *, context: AuditContext, system_id: int, details: ProgrammingDetails
) -> DbsProgramming:
    """Record a programming session with its settings; the charge density is computed and
    kept with each setting. Raises DbsSystemNotFound, TreatmentRefused or AccessRefused, all
    audited."""
    system, clinician = system_found(context, system_id, AuditAction.CREATE)
    patient = system.patient
    with refusals_audited(
        context, AuditAction.CREATE, None, patient, object_type="dbs_programming"
    ):
        values, checked = check_programming(system, details)
        with transaction.atomic():
            lock_patient(patient)
            session = _write(system, clinician, values, checked)
            detail = f"dbs programming recorded ({len(checked)} settings)"
            _audit(context, AuditAction.CREATE, session, patient, detail)
    return session


def _write(
    system: DbsSystem, clinician: User, values: dict[str, Any], checked: list[CheckedSetting]
) -> DbsProgramming:
    session = DbsProgramming.objects.create(system=system, clinician=clinician, **values)
    DbsSetting.objects.bulk_create(
        DbsSetting(programming=session, **vars(setting)) for setting in checked
    )
    return session
