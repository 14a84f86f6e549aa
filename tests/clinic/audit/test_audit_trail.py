"""The audit trail: append-only, searchable and exportable by administrators, and visible
to each patient for their own record."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditEntry, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _entry(**fields):
    defaults = {
        "action": AuditAction.READ,
        "outcome": AuditOutcome.ALLOWED,
        "object_type": "patient",
    }
    return audit_record(context=AuditContext(actor=None), **(defaults | fields))


def test_entries_cannot_be_changed_or_deleted_through_the_model():
    entry = _entry()

    entry.detail = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(detail="tampered")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_the_database_refuses_an_update_too():
    entry = _entry()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET detail = 'tampered' WHERE id = %s", [entry.pk])

    assert AuditEntry.objects.get(pk=entry.pk).detail == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite flushes tests with DELETE")
def test_postgresql_refuses_a_delete_too():
    entry = _entry()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])


def test_an_administrator_finds_a_refused_access(client, staff, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)
    client.get(f"/records/patients/{other_patient.pk}/")
    sign_in(client, staff[Role.ADMIN])

    response = client.get(
        "/audit/", {"outcome": "refused", "hospital_number": other_patient.hospital_number}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "1 entry." in page
    assert patient_user.email in page
    assert "Refused" in page


def test_search_filters_by_person_action_and_dates(client, staff):
    _entry(detail="first")
    sign_in(client, staff[Role.ADMIN])

    assert "No entries match" in client.get("/audit/", {"actor_email": "nobody"}).content.decode()
    assert (
        "first"
        in client.get("/audit/", {"action": "read", "date_from": "2000-01-01"}).content.decode()
    )
    assert "No entries match" in client.get("/audit/", {"date_to": "2000-01-01"}).content.decode()


@pytest.mark.parametrize(
    "params", [{"outcome": "maybe"}, {"date_from": "yesterday"}, {"actor_email": "x" * 300}]
)
def test_bad_search_parameters_are_a_400_with_a_message(client, staff, params):
    sign_in(client, staff[Role.ADMIN])

    response = client.get("/audit/", params)

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()


def test_csv_export_neutralises_formulas_and_is_itself_audited(client, staff):
    _entry(detail='=HYPERLINK("http://evil.example")')
    sign_in(client, staff[Role.ADMIN])

    response = client.get("/audit/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert response["Content-Type"] == "text/csv"
    assert rows[0][:3] == ["at", "actor_email", "actor_role"]
    details = [row[-1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example")' in details
    assert AuditEntry.objects.filter(action="export", object_type="audit_log").exists()


@pytest.mark.parametrize("role", [Role.PATIENT, Role.RECEPTION, Role.CLINICIAN])
def test_only_administrators_search_and_export(client, role):
    sign_in(client, factories.user(role=role))

    expected = 404 if role == Role.PATIENT else 403
    assert client.get("/audit/").status_code == expected
    assert client.get("/audit/export.csv").status_code == expected


def test_a_patient_sees_who_has_accessed_their_record(client, staff, patient_user):
    record = patient_user.patient_record
    sign_in(client, staff[Role.CLINICIAN])
    client.get(f"/records/patients/{record.pk}/")
    intruder = factories.user(role=Role.PATIENT)
    sign_in(client, intruder, second_factor=False)
    client.get(f"/records/patients/{record.pk}/")
    sign_in(client, patient_user, second_factor=False)

    page = client.get("/my/access-log/").content.decode()

    assert f"{staff[Role.CLINICIAN].email} (clinician)" in page
    assert "Another patient's account" in page
    assert intruder.email not in page
    assert "Refused" in page


def test_every_entry_records_who_when_where_and_what(client, staff, other_patient):
    sign_in(client, staff[Role.RECEPTION])

    client.get(
        f"/records/patients/{other_patient.pk}/",
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )

    entry = AuditEntry.objects.get(patient=other_patient)
    assert entry.actor == staff[Role.RECEPTION]
    assert entry.actor_role == "reception"
    assert entry.ip_address == "203.0.113.7"
    assert entry.user_agent == "TestBrowser/1.0"
    assert entry.path == f"/records/patients/{other_patient.pk}/"
    assert entry.channel == "web"
    assert (entry.action, entry.outcome) == ("read", "allowed")


def test_audit_search_uses_a_fixed_number_of_queries(client, staff, django_assert_max_num_queries):
    patient = factories.patient()
    for _ in range(30):
        _entry(patient=patient)
    sign_in(client, staff[Role.ADMIN])

    with django_assert_max_num_queries(10):
        client.get("/audit/")
