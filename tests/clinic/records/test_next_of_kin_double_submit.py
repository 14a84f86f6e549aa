"""A double submit of a next of kin's removal (two tabs, a second click) removes them once with
one removal audited; the second submit answers 404 (page and API), audited as "no such next of
kin", as the medicine and relative removals do (test_merged_record_writes.py)."""

from __future__ import annotations

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry, AuditOutcome
from clinic.records import contacts
from clinic.records.models import NextOfKin
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def kin(db):
    return NextOfKin.objects.create(
        patient=factories.patient(), name="Sam Kin", relationship="Sister", phone="020 7946 0000"
    )


def _page(client, kin):
    return client.post(f"/records/next-of-kin/{kin.pk}/remove/")


def _api(client, kin):
    return client.delete(f"/api/v1/next-of-kin/{kin.pk}")


@pytest.mark.parametrize(
    "submits", [(_page, _page), (_api, _api), (_page, _api)], ids=["pages", "API", "both"]
)
def test_a_double_submit_removes_once_and_audits_one_removal(
    client, staff, monkeypatch, kin, submits
):
    first, second = submits
    sign_in(client, staff[Role.RECEPTION])
    real = contacts.refuse_if_merged

    def other_submit_first(patient, *args, **kwargs) -> None:
        # Both submits found the next of kin; the other one removes them first.
        monkeypatch.setattr(contacts, "refuse_if_merged", real)
        assert first(client, kin).status_code in {302, 204}
        real(patient, *args, **kwargs)

    monkeypatch.setattr(contacts, "refuse_if_merged", other_submit_first)

    response = second(client, kin)

    assert response.status_code == 404
    assert not NextOfKin.objects.filter(pk=kin.pk).exists()
    entries = AuditEntry.objects.filter(
        object_type="next_of_kin", object_id=str(kin.pk), action="delete"
    ).order_by("pk")
    assert [(e.outcome, e.detail) for e in entries] == [
        (AuditOutcome.ALLOWED, "next of kin removed"),
        (AuditOutcome.REFUSED, "no such next of kin"),
    ]


def test_removing_once_answers_as_before(client, staff, kin):
    sign_in(client, staff[Role.RECEPTION])

    response = _page(client, kin)

    assert response.status_code == 302
    assert response.url == f"/records/patients/{kin.patient_id}/"
    assert not NextOfKin.objects.filter(pk=kin.pk).exists()
    removals = AuditEntry.objects.filter(
        object_type="next_of_kin", action="delete", outcome=AuditOutcome.ALLOWED
    )
    assert removals.count() == 1
