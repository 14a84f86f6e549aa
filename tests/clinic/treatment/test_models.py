"""The treatment tables guarantee their rules in the database too (DESIGN.md: "Python checks
give good messages; the database guarantees"): a stop before the start, a stop without its
reason, a dose of zero, a discharge without its day, a second lead in one hemisphere, an
impossible pulse width... are refused by PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from clinic.scheduling.availability import clinic_tz
from clinic.treatment.models import (
    BatteryCheck,
    DbsLead,
    DbsProgramming,
    DbsSetting,
    DbsSystem,
    Medication,
    Procedure,
    TherapyReferral,
    TherapySession,
    TitrationStep,
)

pytestmark = pytest.mark.django_db

DAY = date(2024, 3, 1)


def _refused(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def medication(unit, **fields) -> Medication:
    values = {
        "patient": unit["patient"],
        "drug": "Trihexyphenidyl",
        "started_on": DAY,
        "prescribed_by": unit["clinician"],
    }
    return Medication.objects.create(**(values | fields))


def system(unit, **fields) -> DbsSystem:
    values = {
        "patient": unit["patient"],
        "target": "gpi",
        "implanted_on": DAY,
        "generator": "other",
        "generator_model": "Made-up IPG",
        "rechargeable": False,
        "recorded_by": unit["clinician"],
    }
    return DbsSystem.objects.create(**(values | fields))


def test_a_medication_stops_on_or_after_its_start_and_with_a_reason(unit):
    same_day = medication(unit, stopped_on=DAY, stop_reason="ineffective")
    assert same_day.is_stopped
    assert str(same_day) == "Trihexyphenidyl"

    _refused(lambda: medication(unit, stopped_on=date(2024, 2, 29), stop_reason="other"))
    _refused(lambda: medication(unit, stopped_on=DAY))  # no reason
    _refused(lambda: medication(unit, stop_reason="other"))  # a reason but not stopped


def test_a_titration_step_has_a_positive_dose_sane_frequency_and_one_per_day(unit):
    drug = medication(unit)

    def step(**fields):
        values = {
            "medication": drug,
            "starts_on": DAY,
            "dose": Decimal("2"),
            "unit": "mg",
            "times_per_day": 3,
        }
        return TitrationStep.objects.create(**(values | fields))

    first = step()
    assert str(first) == "2 mg x 3 from 2024-03-01"
    _refused(lambda: step(starts_on=date(2024, 3, 2), dose=Decimal(0)))
    _refused(lambda: step(starts_on=date(2024, 3, 2), dose=Decimal("-1")))
    _refused(lambda: step(starts_on=date(2024, 3, 2), times_per_day=0))
    _refused(lambda: step(starts_on=date(2024, 3, 2), times_per_day=25))
    _refused(lambda: step(dose=Decimal(4)))  # a second step that day


def test_a_discharged_referral_has_its_day_and_only_then(unit):
    def referral(**fields):
        values = {
            "patient": unit["patient"],
            "discipline": "physiotherapy",
            "referred_on": DAY,
            "referred_by": unit["clinician"],
        }
        return TherapyReferral.objects.create(**(values | fields))

    done = referral(status="discharged", discharged_on=DAY)
    session = TherapySession.objects.create(
        referral=done, held_on=DAY, recorded_by=unit["clinician"]
    )
    assert str(done) == "Physiotherapy referral"
    assert str(session) == "Session on 2024-03-01"
    _refused(lambda: referral(status="discharged"))
    _refused(lambda: referral(status="active", discharged_on=DAY))
    _refused(lambda: referral(status="discharged", discharged_on=date(2024, 2, 1)))


def test_another_procedure_has_a_name(unit):
    def procedure(**fields):
        values = {
            "patient": unit["patient"],
            "kind": "selective_peripheral_denervation",
            "performed_on": DAY,
            "recorded_by": unit["clinician"],
        }
        return Procedure.objects.create(**(values | fields))

    spd = procedure(nerves=["C1 dorsal ramus"], muscles=["Splenius capitis"])
    named = procedure(kind="other", name="Intrathecal baclofen pump")
    assert (spd.title, named.title) == ("Selective peripheral denervation", named.name)
    assert str(named) == "Intrathecal baclofen pump"
    _refused(lambda: procedure(kind="other"))


def test_a_dbs_system_names_another_target_or_generator(unit):
    made = system(unit)
    assert str(made) == "DBS system implanted 2024-03-01"
    _refused(lambda: system(unit, target="other"))
    _refused(lambda: system(unit, generator_model=""))


def test_one_lead_per_hemisphere_with_a_sane_number_of_contacts(unit):
    made = system(unit)

    def lead(**fields):
        values = {"system": made, "hemisphere": "left", "model": "3389", "contact_count": 4}
        return DbsLead.objects.create(**(values | fields))

    assert str(lead()) == "Left lead"
    _refused(lambda: lead(model="3387"))  # the left one again
    _refused(lambda: lead(hemisphere="right", contact_count=0))
    _refused(lambda: lead(hemisphere="right", contact_count=17))
    _refused(lambda: lead(hemisphere="right", model="other"))


def test_a_battery_reads_at_most_100_percent(unit):
    made = system(unit)

    def check(**fields):
        values = {"system": made, "checked_on": DAY, "status": "ok", "recorded_by": unit["admin"]}
        return BatteryCheck.objects.create(**(values | fields))

    assert str(check(percent=100)) == "Battery OK on 2024-03-01"
    _refused(lambda: check(percent=101))


def test_a_setting_is_physically_possible_and_one_per_lead(unit):
    made = system(unit)
    left = DbsLead.objects.create(system=made, hemisphere="left", model="3389", contact_count=4)
    session = DbsProgramming.objects.create(
        system=made,
        programmed_at=datetime(2024, 3, 1, 10, tzinfo=clinic_tz()),
        clinician=unit["clinician"],
    )

    def setting(**fields):
        values = {
            "programming": session,
            "lead": left,
            "contacts": {"1": "-", "case": "+"},
            "amplitude": Decimal("2.5"),
            "amplitude_unit": "V",
            "pulse_width_us": 60,
            "frequency_hz": Decimal(130),
        }
        return DbsSetting.objects.create(**(values | fields))

    assert str(setting()) == "2.5 V, 60 µs"
    assert str(session).startswith("DBS programming at 2024-03-01")
    DbsSetting.objects.all().delete()
    _refused(lambda: setting(amplitude=Decimal("-0.1")))
    _refused(lambda: setting(pulse_width_us=0))
    _refused(lambda: setting(frequency_hz=Decimal(0)))
    setting()
    _refused(setting)  # a second setting for the same lead in one session
