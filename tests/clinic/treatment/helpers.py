"""Builders for the treatment tests: made-up systems, leads and settings through the
services, as a clinician who has passed two-factor sign-in."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from clinic.scheduling.availability import clinic_tz
from clinic.treatment import dbs, dbs_programming
from clinic.treatment.dbs import LeadDetails, SystemDetails
from clinic.treatment.dbs_programming import ProgrammingDetails, SettingDetails
from tests.clinic.records.test_encounters import context_of

IMPLANTED = date(2020, 6, 1)
SYSTEM = SystemDetails(
    target="gpi",
    implanted_on=IMPLANTED,
    generator="other",
    generator_model="Activa PC",
    rechargeable=False,
    mri_status="mr_conditional",
)
LEFT = LeadDetails(hemisphere="left", model="3389", contact_count=4)
RIGHT = LeadDetails(hemisphere="right", model="3389", contact_count=4)


def with_(details, **changes):
    """A copy of a details dataclass with some fields changed."""
    return type(details)(**{**details.__dict__, **changes})


def add_system(unit, details=SYSTEM, leads=(LEFT, RIGHT), *, user=None, patient=None):
    return dbs.dbs_system_add(
        context=context_of(user or unit["clinician"]),
        patient_id=(patient or unit["patient"]).pk,
        details=details,
        leads=list(leads),
    )


def setting(hemisphere="left", **changes) -> SettingDetails:
    """A monopolar setting on contact 1: 3 V, 90 µs, 130 Hz, 500 ohms (9 µC/cm²/phase on a
    3389, the labelling's example A)."""
    values = {
        "hemisphere": hemisphere,
        "contacts": {"1": "-", "case": "+"},
        "amplitude": Decimal(3),
        "amplitude_unit": "V",
        "pulse_width_us": 90,
        "frequency_hz": Decimal(130),
        "impedances": {"1": 500},
    }
    return SettingDetails(**(values | changes))


# The labelling's example B: 6.1 V, 210 µs at 500 ohms is 42.7 µC/cm²/phase, over the limit.
EXCESSIVE = {"amplitude": Decimal("6.1"), "pulse_width_us": 210}


def programming(*settings, **changes) -> ProgrammingDetails:
    values = {
        "programmed_at": timezone.now() - timedelta(hours=1),
        "settings": list(settings) or [setting()],
    }
    return ProgrammingDetails(**(values | changes))


def record_programming(unit, system, details=None, *, user=None):
    return dbs_programming.dbs_programming_record(
        context=context_of(user or unit["clinician"]),
        system_id=system.pk,
        details=details or programming(),
    )


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=clinic_tz())
