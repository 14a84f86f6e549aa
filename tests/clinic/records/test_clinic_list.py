"""Today's clinic: the signed-in clinician's appointments today (Europe/London), each with
whether its encounter was started and signed; for clinicians only, audited per patient, in
a number of queries that does not grow with the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import encounter_selectors, encounters
from clinic.records.models import EncounterKind
from clinic.scheduling.models import AppointmentStatus
from tests import factories
from tests.clinic.records.test_encounters import appointment_for, context_of, today_at
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(db, staff):
    """A site and service, the clinician (with a practitioner entry) and a colleague."""
    site = factories.site(slug="clinic-site")
    service = factories.service(slug="follow-up", name="Follow-up")
    mine = factories.practitioner(sites=[site], services=[service])
    theirs = factories.practitioner(sites=[site], services=[service])
    clinician = factories.user(role=Role.CLINICIAN, practitioner=mine)
    return {
        "site": site,
        "service": service,
        "mine": mine,
        "theirs": theirs,
        "clinician": clinician,
        "reception": staff[Role.RECEPTION],
    }


def _book(setting, *, start, practitioner=None, patient=None, **fields):
    return appointment_for(
        patient=patient or factories.patient(),
        practitioner=practitioner or setting["mine"],
        site=setting["site"],
        service=setting["service"],
        start=start,
        booked_by=setting["reception"],
        **fields,
    )


def _clinic_page(client, setting):
    sign_in(client, setting["clinician"])
    return client.get("/records/clinic/")


def test_the_list_shows_my_appointments_today_with_their_encounters(client, setting):
    not_started = _book(setting, start=today_at(0, 10))
    draft = _book(setting, start=today_at(0, 20))
    signed = _book(setting, start=today_at(0, 30))
    hidden = [
        _book(setting, start=today_at(0, 40), practitioner=setting["theirs"]),
        _book(setting, start=today_at(9, days=1)),
        _book(setting, start=today_at(23, 30, days=-1)),
        _book(setting, start=today_at(0, 50), status=AppointmentStatus.CANCELLED),
    ]
    context = context_of(setting["clinician"])
    for appointment in (draft, signed):
        encounter, _ = encounters.encounter_start(
            context=context,
            patient=appointment.patient,
            kind=EncounterKind.FOLLOW_UP,
            appointment=appointment,
            notes="Seen.",
        )
    encounters.encounter_sign(context=context, encounter_id=encounter.pk)

    response = _clinic_page(client, setting)

    page = response.content.decode()
    assert response.status_code == 200
    rows = [row.appointment for row in response.context["clinic"].rows]
    assert rows == [not_started, draft, signed]
    assert all(appointment.patient.full_name not in page for appointment in hidden)
    assert page.count(">Start<") == 1
    assert page.count(">Open<") == 2
    assert "Not started" in page
    assert "Draft" in page
    assert "Signed" in page
    start_link = f"/records/patients/{not_started.patient.pk}/encounters/new/?appointment="
    assert f"{start_link}{not_started.pk}" in page


def test_each_patient_shown_gets_one_audit_entry(client, setting):
    patient = factories.patient()
    _book(setting, start=today_at(0, 10), patient=patient)
    _book(setting, start=today_at(0, 50), patient=patient)
    other = _book(setting, start=today_at(1, 30))

    _clinic_page(client, setting)

    shown = AuditEntry.objects.filter(object_type="clinic_list", outcome="allowed")
    assert sorted(shown.values_list("patient", flat=True)) == sorted([patient.pk, other.patient.pk])


@pytest.mark.parametrize(
    ("role", "status"), [(Role.RECEPTION, 403), (Role.ADMIN, 403), (Role.PATIENT, 404)]
)
def test_only_clinicians_have_a_clinic_list(client, setting, staff, role, status):
    appointment = _book(setting, start=today_at(0, 10))
    user = staff.get(role) or factories.user(role=Role.PATIENT)
    appointment.patient.user = user if role == Role.PATIENT else None
    appointment.patient.save()
    sign_in(client, user, second_factor=role != Role.PATIENT)

    response = client.get("/records/clinic/")

    assert response.status_code == status
    assert list(AuditEntry.objects.values_list("actor", "object_type", "outcome")) == [
        (user.pk, "clinic_list", "refused")
    ]


def test_a_clinician_without_a_directory_entry_is_told_why_the_list_is_empty(client):
    clinician = factories.user(role=Role.CLINICIAN)
    sign_in(client, clinician)

    response = client.get("/records/clinic/")

    assert response.status_code == 200
    assert "not linked to a practitioner" in response.content.decode()


def test_the_clinician_navigation_leads_to_todays_clinic(client, setting, staff):
    page = _clinic_page(client, setting).content.decode()
    sign_in(client, staff[Role.RECEPTION])
    reception = client.get("/records/patients/").content.decode()

    assert 'href="/records/clinic/">Today\'s clinic</a>' in page
    assert "/records/clinic/" not in reception


def _queries(client, setting, count):
    context = context_of(setting["clinician"])
    for n in range(count):
        appointment = _book(setting, start=today_at(0) + timedelta(minutes=10 + 15 * n))
        if n % 2:
            encounters.encounter_start(
                context=context,
                patient=appointment.patient,
                kind=EncounterKind.FOLLOW_UP,
                appointment=appointment,
            )
    with CaptureQueriesContext(connection) as service_level:
        day = encounter_selectors.clinic_today(context=context)
    # Counted at once: the next request empties the connection's query log.
    service_queries = len(service_level)
    sign_in(client, setting["clinician"])
    client.get("/records/clinic/")  # the session's first request loads what it caches
    with CaptureQueriesContext(connection) as page_level:
        response = client.get("/records/clinic/")
    assert len(day.rows) == count
    assert response.content.decode().count("<tr>") == count + 1
    return service_queries, len(page_level)


def test_the_list_uses_the_same_number_of_queries_for_3_and_30_appointments(client, setting):
    three = _queries(client, setting, 3)
    three_days = timedelta(days=3)  # out of today's list
    setting["mine"].appointments.update(
        start=F("start") - three_days,
        end=F("end") - three_days,
        blocked_until=F("blocked_until") - three_days,
    )

    thirty = _queries(client, setting, 30)

    assert three == thirty
    assert three[0] == 2  # the appointments with their encounters, and the audit entries
