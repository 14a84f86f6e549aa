"""Status transitions: a closed enquiry takes no more replies, assignments, closings or
opinions; a written second opinion is never overwritten nor reassigned. Each refusal is a
clear message on a 400 page, changes nothing and is audited."""

from __future__ import annotations

import pytest
from django.core import mail

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.enquiries.models import Enquiry, EnquiryMessage, EnquiryStatusChange
from clinic.enquiries.services import CLOSED, OPINION_WRITTEN, OPINION_WRITTEN_ASSIGN
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _query(sender=None, **fields) -> Enquiry:
    enquiry = Enquiry.objects.create(
        kind="query",
        sender_name="Sam Madeup",
        sender_email="sam@example.org",
        message="A made-up question.",
        sender=sender,
        patient=getattr(sender, "patient_record", None) if sender else None,
        **fields,
    )
    EnquiryStatusChange.objects.create(enquiry=enquiry, to_status="new")
    return enquiry


def _second_opinion(patient_user, **fields) -> Enquiry:
    enquiry = Enquiry.objects.create(
        kind="second_opinion",
        sender_name="Test Patient",
        sender_email=patient_user.email,
        sender=patient_user,
        patient=patient_user.patient_record,
        message="Is toxin still right for me?",
        question="Is toxin still right for me?",
        current_diagnosis="Cervical dystonia",
        current_treatment="Toxin every 12 weeks",
        **fields,
    )
    EnquiryStatusChange.objects.create(enquiry=enquiry, to_status="new")
    return enquiry


def _closed(client, staff, enquiry: Enquiry) -> Enquiry:
    sign_in(client, staff[Role.RECEPTION])
    assert client.post(f"/enquiries/{enquiry.pk}/close/", {"note": "done"}).status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.status == "closed"
    return enquiry


def _snapshot(enquiry: Enquiry) -> tuple[object, ...]:
    enquiry.refresh_from_db()
    return (
        enquiry.status,
        enquiry.assigned_to_id,
        enquiry.opinion,
        enquiry.status_changes.count(),
        EnquiryMessage.objects.filter(enquiry=enquiry).count(),
    )


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("reply", {"body": "One more thing."}),
        ("assign", {"assignee": "RECEPTION"}),
        ("close", {"note": "again"}),
    ],
)
def test_a_closed_query_refuses_staff_actions_and_nothing_is_written(client, staff, path, data):
    enquiry = _closed(client, staff, _query())
    if data.get("assignee") == "RECEPTION":
        data = {"assignee": staff[Role.RECEPTION].pk}
    before = _snapshot(enquiry)
    mail.outbox.clear()

    response = client.post(f"/enquiries/{enquiry.pk}/{path}/", data)

    assert response.status_code == 400
    assert CLOSED in response.content.decode()
    assert _snapshot(enquiry) == before
    assert not mail.outbox
    assert AuditEntry.objects.filter(
        object_type="enquiry", object_id=str(enquiry.pk), outcome="refused"
    ).exists()


def test_closing_twice_leaves_one_closed_row_in_the_history(client, staff):
    enquiry = _closed(client, staff, _query())

    client.post(f"/enquiries/{enquiry.pk}/close/", {"note": "again"})

    assert enquiry.status_changes.filter(to_status="closed").count() == 1


def test_no_opinion_is_written_on_a_closed_second_opinion(client, staff, patient_user):
    clinician = staff[Role.CLINICIAN]
    enquiry = _second_opinion(patient_user, assigned_to=clinician, status="assigned")
    _closed(client, staff, enquiry)
    sign_in(client, clinician)

    response = client.post(f"/enquiries/{enquiry.pk}/opinion/", {"opinion": "Too late"})

    enquiry.refresh_from_db()
    assert response.status_code == 400
    assert CLOSED in response.content.decode()
    assert enquiry.opinion == ""
    assert enquiry.status == "closed"


def test_a_written_second_opinion_cannot_be_overwritten(client, staff, patient_user):
    clinician = staff[Role.CLINICIAN]
    enquiry = _second_opinion(patient_user, assigned_to=clinician, status="assigned")
    sign_in(client, clinician)
    client.post(f"/enquiries/{enquiry.pk}/opinion/", {"opinion": "The first opinion."})
    before = _snapshot(enquiry)
    mail.outbox.clear()

    response = client.post(f"/enquiries/{enquiry.pk}/opinion/", {"opinion": "Replaced."})

    assert response.status_code == 400
    assert OPINION_WRITTEN in response.content.decode()
    assert _snapshot(enquiry) == before
    assert enquiry.opinion == "The first opinion."
    assert not mail.outbox
    assert AuditEntry.objects.filter(
        object_type="enquiry", outcome="refused", detail__startswith="opinion refused"
    ).exists()
    page = client.get(f"/enquiries/{enquiry.pk}/").content.decode()
    assert f'action="/enquiries/{enquiry.pk}/opinion/"' not in page  # the form is gone


def test_an_answered_second_opinion_is_not_reassigned(client, staff, patient_user):
    clinician = staff[Role.CLINICIAN]
    enquiry = _second_opinion(patient_user, assigned_to=clinician, status="assigned")
    sign_in(client, clinician)
    client.post(f"/enquiries/{enquiry.pk}/opinion/", {"opinion": "The opinion."})
    other = factories.user(role=Role.CLINICIAN)
    sign_in(client, staff[Role.RECEPTION])
    before = _snapshot(enquiry)

    response = client.post(f"/enquiries/{enquiry.pk}/assign/", {"assignee": other.pk})

    assert response.status_code == 400
    assert OPINION_WRITTEN_ASSIGN in response.content.decode()
    assert _snapshot(enquiry) == before
    assert enquiry.assigned_to == clinician


def test_the_senders_follow_up_on_a_closed_enquiry_is_refused_and_audited(
    client, staff, patient_user
):
    enquiry = _closed(client, staff, _query(sender=patient_user))
    sign_in(client, patient_user, second_factor=False)
    before = _snapshot(enquiry)

    response = client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "Hello again"})

    assert response.status_code == 400
    assert CLOSED in response.content.decode()
    assert _snapshot(enquiry) == before
    entry = AuditEntry.objects.get(
        object_type="enquiry", object_id=str(enquiry.pk), outcome="refused"
    )
    assert entry.actor == patient_user
    assert entry.patient == patient_user.patient_record
    assert entry.detail.startswith("sender follow-up refused")


def test_the_staff_page_of_a_closed_enquiry_offers_no_actions(client, staff, patient_user):
    clinician = staff[Role.CLINICIAN]
    enquiry = _second_opinion(patient_user, assigned_to=clinician, status="assigned")
    _closed(client, staff, enquiry)

    pages = [client.get(f"/enquiries/{enquiry.pk}/").content.decode()]
    sign_in(client, clinician)
    pages.append(client.get(f"/enquiries/{enquiry.pk}/").content.decode())

    for page in pages:
        for action in ("reply", "assign", "close", "opinion"):
            assert f'action="/enquiries/{enquiry.pk}/{action}/"' not in page
        assert "This enquiry is closed" in page


def test_the_staff_page_of_an_open_enquiry_offers_its_actions(client, staff, patient_user):
    clinician = staff[Role.CLINICIAN]
    enquiry = _second_opinion(patient_user, assigned_to=clinician, status="assigned")
    sign_in(client, clinician)

    page = client.get(f"/enquiries/{enquiry.pk}/").content.decode()

    for action in ("reply", "assign", "close", "opinion"):
        assert f'action="/enquiries/{enquiry.pk}/{action}/"' in page
