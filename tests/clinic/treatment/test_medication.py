"""Medication: a clinician prescribes a medicine with its dose steps, a dopamine-receptor blocker
is flagged from its name (and the clinician can always say otherwise), a stop needs its reason,
doses of zero, negative or non-numbers are refused (with no invented maximum), every access is
audited with ids only, nobody but clinicians reads or writes it, and a merged record is
refused; the same through the pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape

from clinic.audit.models import AuditEntry
from clinic.records.access import AccessRefused
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import Patient
from clinic.records.selectors import PatientNotFound
from clinic.scheduling.availability import local_today
from clinic.treatment import medication as rules
from clinic.treatment import selectors
from clinic.treatment.medication import DoseDetails, MedicationDetails
from clinic.treatment.models import Medication, TitrationStep
from clinic.treatment.rules import TreatmentRefused
from tests import factories
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.conftest import last_audit_pk, new_entries
from tests.clinic.treatment.helpers import with_
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

STARTED = date(2023, 3, 1)
THP = MedicationDetails(drug="Trihexyphenidyl", started_on=STARTED, purpose="Generalised dystonia")
TWO_MG = DoseDetails(dose=Decimal(2), unit="mg", times_per_day=3)
TOMORROW = local_today() + timedelta(days=1)


def _add(unit, details=THP, dose=None, *, user=None, patient=None):
    return rules.medication_add(
        context=context_of(user or unit["clinician"]),
        patient_id=(patient or unit["patient"]).pk,
        details=details,
        first_dose=dose,
    )


def _refused(call) -> TreatmentRefused:
    with pytest.raises(TreatmentRefused) as refused:
        call()
    return refused.value


def test_a_clinician_prescribes_a_medicine_with_its_first_dose(unit):
    before = last_audit_pk()

    medication = _add(unit, dose=TWO_MG)

    assert (medication.drug, medication.started_on, medication.effect) == (
        "Trihexyphenidyl",
        STARTED,
        "not_assessed",
    )
    step = TitrationStep.objects.get()
    assert (step.starts_on, step.dose, step.unit, step.times_per_day) == (STARTED, 2, "mg", 3)
    entry = new_entries(before).get()
    assert (entry.action, entry.detail) == ("create", "medication added with a dose step")


@pytest.mark.parametrize(
    ("name", "flag", "flagged"),
    [
        ("Haloperidol 1.5 mg", None, True),
        ("Metoclopramide", None, True),
        ("Trihexyphenidyl", None, False),
        ("Haloperidol", False, False),
        ("A trial medicine", True, True),
    ],
)
def test_a_blocker_is_flagged_from_its_name_unless_the_clinician_says(unit, name, flag, flagged):
    medication = _add(unit, with_(THP, drug=name, dopamine_receptor_blocker=flag))

    assert medication.dopamine_receptor_blocker is flagged


@pytest.mark.parametrize(
    ("dose", "field", "message"),
    [
        (with_(TWO_MG, dose=Decimal(0)), "dose", rules.DOSE_NOT_POSITIVE),
        (with_(TWO_MG, dose=Decimal("-2")), "dose", rules.DOSE_NOT_POSITIVE),
        (with_(TWO_MG, dose=-1), "dose", rules.DOSE_NOT_POSITIVE),
        (with_(TWO_MG, dose="2"), "dose", rules.BAD_DOSE),
        (with_(TWO_MG, dose=2.5), "dose", rules.BAD_DOSE),
        (with_(TWO_MG, dose=None), "dose", rules.BAD_DOSE),
        (with_(TWO_MG, dose=True), "dose", rules.BAD_DOSE),
        (with_(TWO_MG, dose=Decimal("NaN")), "dose", rules.BAD_DOSE),
        (with_(TWO_MG, dose=Decimal("Infinity")), "dose", rules.BAD_DOSE),
        (with_(TWO_MG, dose=Decimal("0.0001")), "dose", rules.DOSE_TOO_PRECISE),
        (with_(TWO_MG, dose=Decimal(100_000)), "dose", rules.DOSE_TOO_LARGE),
        (with_(TWO_MG, dose=Decimal("1e400")), "dose", rules.DOSE_TOO_LARGE),
        (with_(TWO_MG, unit="g"), "unit", "Unit: choose from the list."),
        (with_(TWO_MG, times_per_day=0), "times_per_day", rules.BAD_TIMES),
        (with_(TWO_MG, times_per_day=25), "times_per_day", rules.BAD_TIMES),
        (with_(TWO_MG, times_per_day="3"), "times_per_day", rules.BAD_TIMES),
        (
            with_(TWO_MG, starts_on=STARTED - timedelta(days=1)),
            "starts_on",
            rules.STEP_BEFORE_START,
        ),
        (with_(TWO_MG, note="\x00"), "note", NUL_CHARACTER),
    ],
)
def test_a_bad_dose_is_refused_and_nothing_written(unit, dose, field, message):
    before = last_audit_pk()

    refused = _refused(lambda: _add(unit, dose=dose))

    assert (refused.field, refused.message, refused.status) == (field, message, 400)
    assert not Medication.objects.exists()
    assert not TitrationStep.objects.exists()
    entry = new_entries(before).get()
    assert (entry.outcome, entry.object_type) == ("refused", "medication")


def test_a_large_dose_below_the_column_bound_is_kept_there_being_no_sourced_maximum(unit):
    medication = _add(unit, dose=with_(TWO_MG, dose=Decimal("99999.999")))

    assert TitrationStep.objects.get(medication=medication).dose == Decimal("99999.999")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"drug": ""}, "drug", rules.DRUG_REQUIRED),
        ({"drug": "  "}, "drug", rules.DRUG_REQUIRED),
        ({"drug": "x" * 101}, "drug", "The name can be at most 100 characters."),
        ({"drug": None}, "drug", "Enter text."),
        ({"dopamine_receptor_blocker": "yes"}, "dopamine_receptor_blocker", rules.BAD_FLAG),
        (
            {"started_on": TOMORROW},
            "started_on",
            "The date it was started cannot be in the future.",
        ),
        ({"started_on": date(1969, 1, 1)}, "started_on", None),
        ({"started_on": None}, "started_on", None),
        (
            {"stopped_on": STARTED - timedelta(days=1), "stop_reason": "other"},
            "stopped_on",
            rules.STOPPED_BEFORE_START,
        ),
        ({"stopped_on": TOMORROW, "stop_reason": "other"}, "stopped_on", None),
        ({"stopped_on": date(2024, 1, 1)}, "stop_reason", rules.STOP_REASON_REQUIRED),
        ({"stop_reason": "ineffective"}, "stopped_on", rules.REASON_WITHOUT_STOP),
        ({"stopped_on": date(2024, 1, 1), "stop_reason": "bored"}, "stop_reason", None),
        ({"effect": "great"}, "effect", None),
        ({"purpose": "x" * 301}, "purpose", None),
        ({"side_effects": "x" * 2001}, "side_effects", None),
        ({"side_effects": "\x00"}, "side_effects", NUL_CHARACTER),
        ({"encounter": 999_999}, "encounter", None),
    ],
)
def test_a_bad_medicine_is_refused_naming_its_field_and_nothing_written(
    unit, changes, field, message
):
    refused = _refused(lambda: _add(unit, with_(THP, **changes)))

    assert refused.field == field
    if message:
        assert refused.message == message
    assert not Medication.objects.exists()


def test_a_medicine_is_stopped_once_with_its_reason(unit):
    medication = _add(unit, dose=TWO_MG)
    context = context_of(unit["colleague"])  # any clinician

    missing = _refused(
        lambda: rules.medication_stop(
            context=context,
            medication_id=medication.pk,
            stopped_on=date(2024, 1, 1),
            stop_reason="",
        )
    )
    stopped = rules.medication_stop(
        context=context,
        medication_id=medication.pk,
        stopped_on=date(2024, 1, 1),
        stop_reason="side_effects",
    )
    twice = _refused(
        lambda: rules.medication_stop(
            context=context,
            medication_id=medication.pk,
            stopped_on=date(2024, 2, 1),
            stop_reason="other",
        )
    )

    assert missing.message == rules.STOP_REASON_REQUIRED
    assert (stopped.stopped_on, stopped.stop_reason) == (date(2024, 1, 1), "side_effects")
    assert (twice.message, twice.status) == (rules.ALREADY_STOPPED, 409)
    assert Medication.objects.get().stopped_on == date(2024, 1, 1)


def test_dose_steps_stay_within_the_medicines_dates_one_per_day(unit):
    medication = _add(unit, dose=TWO_MG)
    context = context_of(unit["clinician"])

    def step(**changes):
        return rules.titration_step_add(
            context=context, medication_id=medication.pk, details=with_(TWO_MG, **changes)
        )

    up = step(starts_on=date(2023, 3, 8), dose=Decimal(4))
    same_day = _refused(lambda: step(starts_on=date(2023, 3, 8)))
    too_far = _refused(lambda: step(starts_on=local_today() + timedelta(days=400)))
    planned = step(starts_on=local_today() + timedelta(days=7), dose=Decimal(6))

    assert up.dose == 4
    assert (same_day.message, same_day.status) == (rules.STEP_SAME_DAY, 409)
    assert too_far.message == rules.STEP_TOO_FAR
    assert rules.current_step(rules.steps_of(medication)) == up  # the planned one is ahead
    assert planned.starts_on > local_today()

    # The start cannot move past its steps; a stop cannot come before them.
    later = _refused(
        lambda: rules.medication_update(
            context=context,
            medication_id=medication.pk,
            details=with_(THP, started_on=date(2023, 3, 5)),
        )
    )
    assert later.message == rules.STEPS_OUTSIDE
    after_stop = _refused(
        lambda: rules.medication_stop(
            context=context,
            medication_id=medication.pk,
            stopped_on=date(2023, 3, 5),
            stop_reason="other",
        )
    )
    assert after_stop.message == rules.STEPS_OUTSIDE


def test_a_change_is_audited_with_the_fields_changed_never_the_medicine(unit):
    medication = _add(unit, dose=TWO_MG)
    context = context_of(unit["clinician"])
    rules.medication_update(
        context=context,
        medication_id=medication.pk,
        details=with_(THP, drug="Baclofen", effect="some"),
    )
    step = TitrationStep.objects.get()
    rules.titration_step_remove(context=context, step_id=step.pk)
    with pytest.raises(rules.MedicationNotFound):  # a double submit
        rules.titration_step_remove(context=context, step_id=step.pk)

    details = list(AuditEntry.objects.order_by("pk").values_list("detail", flat=True))
    assert "medication changed: drug, effect" in details
    assert "titration step removed" in details
    assert not any("aclofen" in d or "exyphenidyl" in d for d in details)


@pytest.mark.parametrize("who", ["reception", "admin", "patient_user"])
def test_nobody_but_a_clinician_prescribes_or_reads_it(unit, who):
    medication = _add(unit, dose=TWO_MG)
    user = unit[who]
    context = context_of(user)
    before = last_audit_pk()

    with pytest.raises(AccessRefused) as add:
        _add(unit, user=user)
    with pytest.raises(AccessRefused) as read:
        rules.medication_for_clinician(context=context, medication_id=medication.pk)
    with pytest.raises(AccessRefused) as step:
        rules.titration_step_add(context=context, medication_id=medication.pk, details=TWO_MG)
    with pytest.raises(AccessRefused) as remove:
        rules.titration_step_remove(context=context, step_id=TitrationStep.objects.get().pk)

    assert add.value.reveal is (who != "patient_user")
    assert not read.value.reveal
    assert not step.value.reveal
    assert not remove.value.reveal
    assert Medication.objects.count() == 1
    assert TitrationStep.objects.count() == 1
    assert set(new_entries(before).values_list("outcome", flat=True)) == {"refused"}


def test_unknown_ids_are_not_found(unit):
    context = context_of(unit["clinician"])

    with pytest.raises(PatientNotFound):
        _add(unit, patient=Patient(pk=999_999))
    with pytest.raises(rules.MedicationNotFound):
        rules.medication_for_clinician(context=context, medication_id=999_999)
    with pytest.raises(rules.MedicationNotFound):
        rules.titration_step_remove(context=context, step_id=999_999)


def test_a_merged_record_refuses_every_write(unit):
    medication = _add(unit, dose=TWO_MG)
    Patient.objects.filter(pk=unit["patient"].pk).update(
        merged_into=factories.patient(), merged_at=timezone.now()
    )
    context = context_of(unit["clinician"])

    refusals = [
        _refused(lambda: _add(unit)),
        _refused(
            lambda: rules.medication_update(
                context=context, medication_id=medication.pk, details=THP
            )
        ),
        _refused(
            lambda: rules.medication_stop(
                context=context,
                medication_id=medication.pk,
                stopped_on=date(2024, 1, 1),
                stop_reason="other",
            )
        ),
        _refused(
            lambda: rules.titration_step_add(
                context=context,
                medication_id=medication.pk,
                details=with_(TWO_MG, starts_on=date(2024, 1, 1)),
            )
        ),
    ]

    assert {r.status for r in refusals} == {409}
    assert Medication.objects.count() == 1
    assert Medication.objects.get().stopped_on is None
    assert TitrationStep.objects.count() == 1


def test_the_page_lists_medicines_with_todays_dose_and_blockers_counted(unit):
    _add(unit, dose=TWO_MG)
    _add(unit, with_(THP, drug="Haloperidol", started_on=date(2024, 1, 1)))

    page = selectors.treatment_page(context=context_of(unit["clinician"]), patient=unit["patient"])

    assert [e.medication.drug for e in page.medications] == ["Haloperidol", "Trihexyphenidyl"]
    assert page.medications[1].current.dose == 2
    assert page.blockers == 1


# Through the pages


def _form(**changes) -> dict[str, str]:
    data = {
        "drug": "Trihexyphenidyl",
        "dopamine_receptor_blocker": "auto",
        "purpose": "",
        "started_on": "2023-03-01",
        "stopped_on": "",
        "stop_reason": "",
        "effect": "not_assessed",
        "side_effects": "",
        "encounter": "",
        "dose": "2",
        "unit": "mg",
        "times_per_day": "3",
    }
    return data | changes


def test_a_clinician_keeps_medication_through_the_pages(client, unit):
    patient = unit["patient"]
    sign_in(client, unit["clinician"])
    page_url = f"/records/patients/{patient.pk}/treatment/"

    assert "No medication prescribed." in client.get(page_url).content.decode()
    added = client.post(f"{page_url}medications/new/", _form())
    medication = Medication.objects.get()
    assert added["Location"] == f"/records/medications/{medication.pk}/"
    detail = client.get(added["Location"]).content.decode()
    assert "2 mg 3 times a day" in detail

    assert (
        client.post(
            f"/records/medications/{medication.pk}/steps/new/",
            {
                "starts_on": "2023-03-08",
                "dose": "4",
                "unit": "mg",
                "times_per_day": "3",
                "note": "",
            },
        ).status_code
        == 302
    )
    assert "4 mg 3 times a day" in client.get(page_url).content.decode()

    stop_url = f"/records/medications/{medication.pk}/stop/"
    assert (
        client.post(
            stop_url, {"stopped_on": "2024-01-01", "stop_reason": "ineffective"}
        ).status_code
        == 302
    )
    again = client.post(stop_url, {"stopped_on": "2024-02-01", "stop_reason": "other"})
    assert again.status_code == 409
    assert escape(rules.ALREADY_STOPPED) in again.content.decode()
    page = client.get(page_url).content.decode()
    assert "stopped 1 January 2024 (ineffective)" in page

    step = TitrationStep.objects.order_by("starts_on").last()
    assert client.post(f"/records/titration-steps/{step.pk}/remove/").status_code == 302
    assert TitrationStep.objects.count() == 1


def test_bad_input_on_the_page_is_shown_and_nothing_written(client, unit):
    sign_in(client, unit["clinician"])
    url = f"/records/patients/{unit['patient'].pk}/treatment/medications/new/"

    for changes, message in [
        ({"dose": "0"}, rules.DOSE_NOT_POSITIVE),
        ({"dose": "-5"}, rules.DOSE_NOT_POSITIVE),
        ({"dose": "two"}, "Enter a number."),
        ({"dose": "2", "unit": ""}, "Unit: choose from the list."),
        ({"drug": ""}, "Medicine: this is required."),
        ({"started_on": "31/02/2023"}, "Enter a real date"),
        ({"stopped_on": "2024-01-01"}, rules.STOP_REASON_REQUIRED),
        ({"drug": "a\x00b"}, NUL_CHARACTER),
    ]:
        response = client.post(url, _form(**changes))
        assert response.status_code == 400, changes
        assert escape(message) in response.content.decode(), changes
    assert not Medication.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("reception", 403), ("admin", 403), ("patient_user", 404)]
)
def test_the_medication_pages_refuse_everyone_but_clinicians(client, unit, who, status):
    medication = _add(unit, dose=TWO_MG)
    step = TitrationStep.objects.get()
    sign_in(client, unit[who], second_factor=who != "patient_user")
    patient = unit["patient"]

    patient_pages = [
        client.get(f"/records/patients/{patient.pk}/treatment/medications/new/"),
        client.post(f"/records/patients/{patient.pk}/treatment/medications/new/", _form()),
    ]
    by_id = [
        client.get(f"/records/medications/{medication.pk}/"),
        client.post(f"/records/medications/{medication.pk}/edit/", _form(drug="Other")),
        client.post(
            f"/records/medications/{medication.pk}/stop/",
            {"stopped_on": "2024-01-01", "stop_reason": "other"},
        ),
        client.post(
            f"/records/medications/{medication.pk}/steps/new/",
            {"starts_on": "2024-01-01", "dose": "1", "unit": "mg", "times_per_day": "1"},
        ),
        client.post(f"/records/titration-steps/{step.pk}/remove/"),
    ]

    assert [r.status_code for r in patient_pages] == [status] * 2
    assert [r.status_code for r in by_id] == [404] * 5
    assert "Trihexyphenidyl" not in "".join(r.content.decode() for r in patient_pages + by_id)
    assert list(Medication.objects.values_list("drug", "stopped_on")) == [("Trihexyphenidyl", None)]
    assert TitrationStep.objects.count() == 1
