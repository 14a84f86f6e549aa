"""Next of kin: reception and clinicians add, change and remove them on the staff patient
page; patients read their own on /my/; everyone else is refused, audited, nothing written."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records import contacts
from clinic.records.access import AccessRefused
from clinic.records.contact_forms import NEEDS_A_WAY_TO_REACH
from clinic.records.models import (
    Diagnosis,
    DrugExposure,
    FamilyMember,
    NextOfKin,
    PatientAlert,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(staff, patient_user, other_patient):
    """Everyone the refusal tests need: the staff, a patient, and someone else's record."""
    return staff, patient_user, other_patient


KIN = {
    "name": "Sam Madeup",
    "relationship": "Daughter",
    "phone": "020 7946 0123",
    "email": "sam@example.org",
    "is_emergency_contact": "on",
}


@pytest.fixture
def kin(other_patient):
    return NextOfKin.objects.create(
        patient=other_patient, name="Jo Madeup", relationship="Husband", phone="020 7946 0456"
    )


def _entries(**filters):
    return list(
        AuditEntry.objects.filter(**filters)
        .order_by("pk")
        .values_list("action", "outcome", "object_type")
    )


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.CLINICIAN])
def test_staff_add_a_next_of_kin_and_it_is_audited(client, staff, other_patient, role):
    sign_in(client, staff[role])

    form = client.get(f"/records/patients/{other_patient.pk}/next-of-kin/new/")
    response = client.post(f"/records/patients/{other_patient.pk}/next-of-kin/new/", KIN)

    assert form.status_code == 200
    assert response.status_code == 302
    added = NextOfKin.objects.get(patient=other_patient)
    assert (added.name, added.relationship, added.is_emergency_contact) == (
        "Sam Madeup",
        "Daughter",
        True,
    )
    entry = AuditEntry.objects.get(action="create", object_type="next_of_kin")
    assert (entry.patient, entry.object_id, entry.detail) == (
        other_patient,
        str(added.pk),
        "next of kin added",
    )
    assert "Sam" not in entry.detail  # administrators read the trail: no names in it


def test_the_patient_page_lists_next_of_kin_with_links_to_change_them(client, staff, kin):
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/records/patients/{kin.patient_id}/").content.decode()

    assert "Jo Madeup" in page
    assert "Husband" in page
    assert f"/records/next-of-kin/{kin.pk}/edit/" in page
    assert f"/records/next-of-kin/{kin.pk}/remove/" in page


def test_staff_change_a_next_of_kin_and_the_fields_changed_are_audited(client, staff, kin):
    sign_in(client, staff[Role.CLINICIAN])

    form = client.get(f"/records/next-of-kin/{kin.pk}/edit/")
    response = client.post(f"/records/next-of-kin/{kin.pk}/edit/", KIN | {"name": "Jo Madeup"})

    kin.refresh_from_db()
    assert 'value="Jo Madeup"' in form.content.decode()
    assert response.status_code == 302
    assert (kin.relationship, kin.email) == ("Daughter", "sam@example.org")
    entry = AuditEntry.objects.get(action="update", object_type="next_of_kin")
    assert entry.detail == ("next of kin changed: relationship, phone, email, is_emergency_contact")


def test_staff_remove_a_next_of_kin_after_confirming(client, staff, kin):
    sign_in(client, staff[Role.RECEPTION])

    question = client.get(f"/records/next-of-kin/{kin.pk}/remove/")
    response = client.post(f"/records/next-of-kin/{kin.pk}/remove/")

    assert "Remove Jo Madeup" in question.content.decode()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/records/patients/{kin.patient_id}/"
    assert not NextOfKin.objects.exists()
    entry = AuditEntry.objects.get(action="delete")
    assert (entry.object_id, entry.patient_id, entry.detail) == (
        str(kin.pk),
        kin.patient_id,
        "next of kin removed",
    )


def test_a_patient_reads_their_next_of_kin_on_their_own_page_without_links(client, patient_user):
    record = patient_user.patient_record
    kin = NextOfKin.objects.create(patient=record, name="Alex Madeup", relationship="Partner")
    sign_in(client, patient_user, second_factor=False)

    page = client.get("/my/").content.decode()

    assert "Alex Madeup" in page
    assert f"/records/next-of-kin/{kin.pk}/" not in page
    assert "Add next of kin" not in page


@pytest.mark.parametrize(
    "route",
    [
        ("get", "/records/patients/{patient}/next-of-kin/new/"),
        ("post", "/records/patients/{patient}/next-of-kin/new/"),
        ("get", "/records/next-of-kin/{kin}/edit/"),
        ("post", "/records/next-of-kin/{kin}/edit/"),
        ("get", "/records/next-of-kin/{kin}/remove/"),
        ("post", "/records/next-of-kin/{kin}/remove/"),
    ],
)
@pytest.mark.parametrize("refused", [("own patient", 404), ("other patient", 404), ("admin", 403)])
def test_patients_and_administrators_are_refused_audited_and_nothing_changes(
    client, people, route, refused
):
    method, path = route
    who, status = refused
    staff, patient_user, other_patient = people
    # The patient's own next of kin for "own patient", someone else's otherwise.
    target = patient_user.patient_record if who == "own patient" else other_patient
    kin = NextOfKin.objects.create(patient=target, name="Jo Madeup", relationship="Husband")
    actor = staff[Role.ADMIN] if who == "admin" else patient_user
    sign_in(client, actor, second_factor=who == "admin")
    before = list(NextOfKin.objects.values())

    response = getattr(client, method)(path.format(patient=target.pk, kin=kin.pk), KIN)

    assert response.status_code == status
    assert "Jo Madeup" not in response.content.decode()
    assert list(NextOfKin.objects.values()) == before
    entries = AuditEntry.objects.filter(actor=actor)
    assert [(e.outcome, e.patient_id) for e in entries] == [("refused", target.pk)]


def test_reception_without_the_second_factor_are_sent_to_it(client, staff, kin):
    sign_in(client, staff[Role.RECEPTION], second_factor=False)

    response = client.post(f"/records/next-of-kin/{kin.pk}/remove/")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/two-factor/")
    assert NextOfKin.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/records/patients/999999/next-of-kin/new/",
        "/records/next-of-kin/999999/edit/",
        "/records/next-of-kin/999999/remove/",
    ],
)
def test_missing_records_are_404_and_the_attempt_is_audited(client, staff, path):
    sign_in(client, staff[Role.RECEPTION])

    assert client.post(path, KIN).status_code == 404
    assert AuditEntry.objects.filter(outcome="refused").count() == 1
    assert not NextOfKin.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
        ("relationship", "", "This field is required."),
        ("name", "x" * 10_000, "Ensure this value has at most 200 characters"),
        ("relationship", "x" * 61, "Ensure this value has at most 60 characters"),
        ("phone", "0" * 31, "Ensure this value has at most 30 characters"),
        ("email", "not-an-email", "Enter a valid email address."),
        ("name", "Jo\x00", "Null characters are not allowed."),
    ],
)
def test_bad_next_of_kin_details_are_400_beside_the_field_and_nothing_is_written(
    client, staff, other_patient, bad
):
    field, value, message = bad
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        f"/records/patients/{other_patient.pk}/next-of-kin/new/", KIN | {field: value}
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert not NextOfKin.objects.exists()
    assert not AuditEntry.objects.filter(action="create").exists()


def test_a_next_of_kin_needs_a_telephone_or_an_email(client, staff, other_patient):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        f"/records/patients/{other_patient.pk}/next-of-kin/new/", KIN | {"phone": "", "email": ""}
    )

    assert response.status_code == 400
    assert NEEDS_A_WAY_TO_REACH in response.content.decode()
    assert not NextOfKin.objects.exists()


def test_a_bad_change_leaves_the_next_of_kin_as_it_was(client, staff, kin):
    sign_in(client, staff[Role.RECEPTION])
    before = NextOfKin.objects.values().get(pk=kin.pk)

    response = client.post(f"/records/next-of-kin/{kin.pk}/edit/", KIN | {"name": ""})

    assert response.status_code == 400
    assert NextOfKin.objects.values().get(pk=kin.pk) == before
    assert not AuditEntry.objects.filter(action="update").exists()


def test_markup_in_a_next_of_kin_is_shown_escaped(client, staff, other_patient):
    sign_in(client, staff[Role.CLINICIAN])
    client.post(
        f"/records/patients/{other_patient.pk}/next-of-kin/new/",
        KIN | {"name": "<img src=x onerror=alert(1)>", "relationship": "<b>Son</b>"},
    )

    page = client.get(f"/records/patients/{other_patient.pk}/").content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;Son&lt;/b&gt;" in page
    assert "<img src=x" not in page


def test_the_service_refuses_a_patient_writing_their_own_next_of_kin(patient_user):
    record = patient_user.patient_record
    context = AuditContext(actor=patient_user)
    details = contacts.NextOfKinDetails(name="Alex", relationship="Partner", phone="1")

    with pytest.raises(AccessRefused) as refused:
        contacts.next_of_kin_add(context=context, patient_id=record.pk, details=details)

    assert refused.value.reveal is False
    assert not NextOfKin.objects.exists()
    assert _entries(actor=patient_user) == [("create", "refused", "next_of_kin")]


def test_the_patient_page_takes_the_same_queries_however_much_the_record_holds(
    client, staff, other_patient
):
    """Every section of the clinician's patient page (kin, alerts, family and drug history,
    problem list) is read in a fixed number of queries, however many rows each holds."""
    clinician = staff[Role.CLINICIAN]
    sign_in(client, clinician)
    url = f"/records/patients/{other_patient.pk}/"

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured)

    # One of each first, so every section is drawn (an empty one may skip its query).
    def add(n: int) -> None:
        NextOfKin.objects.create(patient=other_patient, name=f"Kin {n}", relationship="Friend")
        PatientAlert.objects.create(
            patient=other_patient, kind="other", detail=f"Alert {n}", recorded_by=clinician
        )
        FamilyMember.objects.create(
            patient=other_patient,
            relationship="sister",
            condition=f"Tremor {n}",
            recorded_by=clinician,
        )
        DrugExposure.objects.create(
            patient=other_patient, drug=f"Made-up drug {n}", recorded_by=clinician
        )
        Diagnosis.objects.create(
            patient=other_patient,
            kind="other",
            label=f"Made-up problem {n}",
            diagnosed_on=date(2020, 1, 1),
            recorded_by=clinician,
        )

    add(0)
    queries_for_page()  # the first page of a session also writes the session's activity
    with_one = queries_for_page()
    for n in range(1, 10):
        add(n)
    with_ten = queries_for_page()

    assert with_ten == with_one
    page = client.get(url).content.decode()
    assert page.count("Friend") == 10
    assert page.count("Made-up problem") >= 10
