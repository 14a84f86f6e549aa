"""Every treatment appears on the patient timeline: medicines at their start, therapy
referrals, procedures, DBS implants and programming sessions (in one query, a UNION), each
linking to its page; one query per source whatever the data, newest first, within the dates
asked for and at most ``limit``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.records import timeline
from clinic.records.timeline import EventKind, Window, end_of_day
from clinic.scheduling.availability import clinic_tz
from clinic.treatment import medication, surgery, therapy, timeline_sources
from clinic.treatment.models import DbsProgramming
from tests.clinic.records.test_encounters import context_of
from tests.clinic.treatment.helpers import (
    EXCESSIVE,
    SYSTEM,
    add_system,
    programming,
    record_programming,
    setting,
    with_,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=clinic_tz())


def _record_everything(unit, patient=None, *, n=1):
    patient = patient or unit["patient"]
    context = context_of(unit["clinician"])
    for i in range(n):
        day = date(2021, 1, 1) + timedelta(days=3 * i)
        medication.medication_add(
            context=context,
            patient_id=patient.pk,
            details=medication.MedicationDetails(drug="Baclofen", started_on=day),
        )
        therapy.referral_add(
            context=context,
            patient_id=patient.pk,
            details=therapy.ReferralDetails(discipline="physiotherapy", referred_on=day),
        )
        surgery.procedure_add(
            context=context,
            patient_id=patient.pk,
            details=surgery.ProcedureDetails(
                kind="selective_peripheral_denervation", performed_on=day
            ),
        )
        system = add_system(unit, with_(SYSTEM, implanted_on=day), patient=patient)
        record_programming(unit, system, programming(programmed_at=at(day, 11)))


def _timeline(unit, patient=None, **kwargs):
    return timeline.timeline_of_patient(
        context=context_of(unit["clinician"]), patient=patient or unit["patient"], **kwargs
    )


def test_the_app_registers_one_source_per_kind_of_treatment():
    kinds = {source.kind for source in timeline.SOURCES}

    assert {EventKind.MEDICATION, EventKind.THERAPY, EventKind.DBS, EventKind.SURGERY} <= kinds
    assert (EventKind.DBS.value, "Deep brain stimulation") in timeline.kind_choices()


def test_every_treatment_appears_linking_to_its_page(unit):
    _record_everything(unit)

    events = _timeline(unit).events

    by_title = {e.title: e for e in events}
    assert by_title["Started Baclofen"].url.startswith("/records/medications/")
    assert by_title["Started Baclofen"].status == "Taking"
    assert by_title["Referred for physiotherapy"].url.startswith("/records/therapy-referrals/")
    assert by_title["Selective peripheral denervation"].url.startswith("/records/procedures/")
    assert by_title["DBS system implanted"].url == (
        f"/records/patients/{unit['patient'].pk}/treatment/#dbs"
    )
    assert by_title["DBS programming"].url.startswith("/records/dbs-programming/")
    assert by_title["DBS programming"].detail == "GPi (globus pallidus internus), Dr Ann Clinician"


def test_dbs_events_interleave_in_the_timelines_order_and_a_warning_shows(unit):
    system = add_system(unit, with_(SYSTEM, implanted_on=date(2021, 3, 1)))
    record_programming(
        unit, system, programming(setting(**EXCESSIVE), programmed_at=at(date(2021, 3, 1), 15))
    )
    record_programming(unit, system, programming(programmed_at=at(date(2021, 3, 1), 9)))
    record_programming(unit, system, programming(programmed_at=at(date(2021, 4, 2), 10)))
    later = add_system(unit, with_(SYSTEM, implanted_on=date(2021, 3, 20)))
    assert later.pk

    events = timeline_sources.dbs(unit["patient"], Window(), 10)

    assert [(e.title, e.at) for e in events] == [
        ("DBS programming", at(date(2021, 4, 2), 10)),
        ("DBS system implanted", end_of_day(date(2021, 3, 20))),
        ("DBS system implanted", end_of_day(date(2021, 3, 1))),
        ("DBS programming", at(date(2021, 3, 1), 15)),
        ("DBS programming", at(date(2021, 3, 1), 9)),
    ]
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    assert events[3].status == timeline_sources.WARNED
    assert events[4].status == ""


def test_a_source_returns_at_most_limit_newest_first_within_the_window(unit):
    _record_everything(unit, n=5)  # days 1, 4, 7, 10, 13 January 2021
    patient = unit["patient"]
    window = Window(date_from=date(2021, 1, 4), date_to=date(2021, 1, 10))

    for fetch in (
        timeline_sources.medications,
        timeline_sources.therapy,
        timeline_sources.surgery,
        timeline_sources.dbs,
    ):
        newest = fetch(patient, Window(), 2)
        assert len(newest) == 2, fetch
        assert newest[0].day >= newest[1].day >= date(2021, 1, 10), fetch
        within = fetch(patient, window, 100)
        assert {e.day for e in within} == {date(2021, 1, 4), date(2021, 1, 7), date(2021, 1, 10)}


def test_another_patients_treatments_never_appear(unit):
    _record_everything(unit, unit["other_patient"])

    assert _timeline(unit).events == []


@pytest.mark.parametrize("n", [1, 20])
def test_the_timeline_takes_one_query_per_source_whatever_the_data(
    unit, n, django_assert_num_queries
):
    _record_everything(unit, n=n)

    with django_assert_num_queries(len(timeline.SOURCES) + 1):
        shown = _timeline(unit)

    assert len(shown.events) == 5 * n


def test_the_timeline_page_shows_treatments_and_filters_by_their_kind(client, unit):
    _record_everything(unit)
    system = add_system(unit, with_(SYSTEM, implanted_on=date(2022, 1, 1)))
    DbsProgramming.objects.filter(system=system).delete()
    sign_in(client, unit["clinician"])
    url = f"/records/patients/{unit['patient'].pk}/timeline/"

    page = client.get(url).content.decode()
    dbs_only = client.get(url, {"kinds": ["dbs"]}).content.decode()

    assert "Started Baclofen" in page
    assert "DBS programming" in page
    assert 'value="surgery"' in page
    assert "DBS system implanted" in dbs_only
    assert "Started Baclofen" not in dbs_only
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    assert len(queries) < 40


def test_a_dose_is_not_an_event(unit):
    record = medication.medication_add(
        context=context_of(unit["clinician"]),
        patient_id=unit["patient"].pk,
        details=medication.MedicationDetails(drug="Clonazepam", started_on=date(2022, 2, 2)),
        first_dose=medication.DoseDetails(dose=Decimal("0.5"), unit="mg", times_per_day=1),
    )

    events = timeline_sources.medications(unit["patient"], Window(), 10)

    assert [e.url for e in events] == [f"/records/medications/{record.pk}/"]
