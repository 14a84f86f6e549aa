"""Queries: anyone sends one (rate limited, spam resistant); staff triage, reply and close."""

from __future__ import annotations

import time

import pytest
from django.core import mail, signing
from django.utils.html import escape

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.enquiries.forms import NOT_ACCEPTED, STARTED_SALT, TOO_FAST
from clinic.enquiries.models import Enquiry, EnquiryMessage
from clinic.enquiries.selfcheck_link import selfcheck_token
from clinic.enquiries.services import RATE_LIMITED
from dystonia.selfcheck import QUESTIONS
from tests import factories
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def _started(seconds_ago: float = 10) -> str:
    return signing.dumps(time.time() - seconds_ago, salt=STARTED_SALT)


def _query(**changes):
    return {
        "sender_name": "Sam Madeup",
        "sender_email": "sam@example.org",
        "sender_phone": "",
        "topic": "symptoms",
        "message": "My neck turns to the left. Who should I see?",
        "website": "",
        "started": _started(),
    } | changes


def test_the_query_form_shows_urgent_advice(client):
    page = client.get("/enquiries/query/").content.decode()

    assert "Get help now if you have any of these" in page
    assert "stridor" in page


def test_anyone_sends_a_query_and_gets_a_reference_and_an_email(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enquiries/query/", _query())

    enquiry = Enquiry.objects.get()
    assert response.status_code == 200
    assert enquiry.reference in response.content.decode()
    assert enquiry.status == "new"
    assert mail.outbox[0].to == ["sam@example.org"]
    assert enquiry.reference in mail.outbox[0].subject
    assert AuditEntry.objects.filter(object_type="enquiry", action="create").exists()


def test_self_check_answers_travel_with_the_query(client):
    token = selfcheck_token({q.id: "no" for q in QUESTIONS} | {"neck_turning": "yes", "urgent": []})

    form = client.post("/enquiries/query/", {"selfcheck": token}).content.decode()
    client.post("/enquiries/query/", _query(selfcheck=token))

    assert "Your self-check answers will be sent with this query" in form
    summary = Enquiry.objects.get().selfcheck_summary
    assert "Self-check advice: See a dystonia specialist" in summary
    assert "Does your neck twist, turn or tilt to one side by itself? Yes" in summary


def test_a_forged_self_check_token_is_ignored(client):
    client.post("/enquiries/query/", _query(selfcheck="forged"))

    assert Enquiry.objects.get().selfcheck_summary == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"website": "http://spam.example"}, NOT_ACCEPTED),
        ({"started": "just now"}, TOO_FAST),
        ({"started": "tampered"}, NOT_ACCEPTED),
        ({"sender_email": "not-an-email"}, "Enter a valid email address."),
        ({"message": ""}, "This field is required."),
        ({"message": "x" * 5001}, "at most 5000 characters"),
        ({"sender_name": "x" * 151}, "at most 150 characters"),
        ({"topic": "lottery"}, "Select a valid choice."),
        ({"sender_name": "Nul\x00l"}, "Null characters are not allowed."),
    ],
)
def test_bad_or_spammy_queries_are_refused_and_nothing_is_written(client, changes, message):
    if changes.get("started") == "just now":
        changes = {"started": _started(0)}  # made here: a time taken at collection would be old
    response = client.post("/enquiries/query/", _query(**changes))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Enquiry.objects.exists()
    assert not mail.outbox


def test_markup_in_a_query_is_shown_as_text(client, staff):
    client.post("/enquiries/query/", _query(message="<img src=x onerror=alert(1)>"))
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/enquiries/{Enquiry.objects.get().pk}/").content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page


def test_queries_are_rate_limited_per_address(client, settings):
    settings.QUERY_RATE_LIMIT_PER_HOUR = 2
    for n in range(2):
        client.post("/enquiries/query/", _query(sender_email=f"p{n}@example.org"))

    response = client.post("/enquiries/query/", _query(sender_email="p9@example.org"))

    assert response.status_code == 429
    assert RATE_LIMITED in response.content.decode()
    assert Enquiry.objects.count() == 2


def test_reception_triages_replies_and_closes_with_history(
    client, staff, django_capture_on_commit_callbacks
):
    client.post("/enquiries/query/", _query())
    enquiry = Enquiry.objects.get()
    mail.outbox.clear()
    sign_in(client, staff[Role.RECEPTION])

    inbox = client.get("/enquiries/inbox/", {"status": "new"}).content.decode()
    client.post(f"/enquiries/{enquiry.pk}/assign/", {"assignee": staff[Role.RECEPTION].pk})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "Please see your GP first."})
    client.post(f"/enquiries/{enquiry.pk}/close/", {"note": "answered"})

    enquiry.refresh_from_db()
    assert enquiry.reference in inbox
    assert enquiry.status == "closed"
    assert enquiry.assigned_to == staff[Role.RECEPTION]
    history = list(enquiry.status_changes.values_list("to_status", flat=True))
    assert history == ["new", "assigned", "answered", "closed"]
    assert (
        "Please see your GP first." in mail.outbox[0].body
    )  # no account: the reply is in the email
    assert AuditEntry.objects.filter(object_type="enquiry", action="update").count() == 3


def test_a_signed_in_sender_sees_the_thread_and_the_email_only_says_there_is_a_reply(
    client, patient_user, staff, django_capture_on_commit_callbacks
):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/query/", _query(sender_email=patient_user.email))
    enquiry = Enquiry.objects.get()
    assert enquiry.patient == patient_user.patient_record
    sign_in(client, staff[Role.CLINICIAN])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "Clinical advice here."})
    sign_in(client, patient_user, second_factor=False)

    page = client.get(f"/enquiries/{enquiry.pk}/").content.decode()
    client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "Thank you, one more question."})

    assert "Clinical advice here." in page
    assert "Write to us about this" in page
    assert "Get help now if you have any of these" in page  # urgent advice on the follow-up form
    assert "Clinical advice here." not in mail.outbox[0].body
    assert "sign in to read it" in mail.outbox[0].body
    enquiry.refresh_from_db()
    assert enquiry.status == "new"
    assert EnquiryMessage.objects.filter(from_staff=False).count() == 1


def test_another_patient_cannot_see_or_reply_to_a_query(client, patient_user, other_patient):
    sign_in(client, patient_user, second_factor=False)
    client.post("/enquiries/query/", _query())
    enquiry = Enquiry.objects.get()
    sign_in(client, other_patient.user, second_factor=False)

    assert client.get(f"/enquiries/{enquiry.pk}/").status_code == 404
    assert client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "hi"}).status_code == 404
    assert client.get("/enquiries/inbox/").status_code == 404
    assert AuditEntry.objects.filter(object_type="enquiry", outcome="refused").count() == 2


def test_administrators_have_no_access_to_enquiries(client, staff):
    client.post("/enquiries/query/", _query())
    sign_in(client, staff[Role.ADMIN])

    assert client.get(f"/enquiries/{Enquiry.objects.get().pk}/").status_code == 403
    assert client.get("/enquiries/inbox/").status_code == 403


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("reply", {"body": ""}),
        ("reply", {"body": "x" * 5001}),
        ("assign", {"assignee": "not-a-number"}),
        ("assign", {"assignee": "999999"}),
    ],
)
def test_bad_triage_input_is_400_and_changes_nothing(client, staff, path, data):
    client.post("/enquiries/query/", _query())
    enquiry = Enquiry.objects.get()
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(f"/enquiries/{enquiry.pk}/{path}/", data)

    enquiry.refresh_from_db()
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert enquiry.status == "new"
    assert not EnquiryMessage.objects.exists()


def test_assigning_to_a_patient_or_admin_is_refused(client, staff, patient_user):
    client.post("/enquiries/query/", _query())
    enquiry = Enquiry.objects.get()
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(f"/enquiries/{enquiry.pk}/assign/", {"assignee": patient_user.pk})

    assert response.status_code == 400
    enquiry.refresh_from_db()
    assert enquiry.assigned_to is None


def test_inbox_uses_a_fixed_number_of_queries(client, staff, django_assert_max_num_queries):
    for n in range(15):
        factories.patient()
        Enquiry.objects.create(
            kind="query", sender_name=f"S{n}", sender_email=f"s{n}@example.org", message="m"
        )
    sign_in(client, staff[Role.RECEPTION])

    with django_assert_max_num_queries(10):
        client.get("/enquiries/inbox/")


@pytest.mark.parametrize(
    "message",
    [
        "Ma nuque tourne à gauche depuis l'été",  # accents
        "رقبتي تلتف إلى اليسار",  # right-to-left script
        "Blinking 😣 all day 👁️‍🗨️",  # emoji, with zero-width joiners
        "e\u0301 combining accent and \u200b zero-width space",
        "\u202eright-to-left override",  # shown as text, never reorders the page
    ],
)
def test_unicode_messages_are_kept_exactly_and_shown_as_text(client, staff, message):
    response = client.post("/enquiries/query/", _query(message=message))
    sign_in(client, staff[Role.RECEPTION])

    page = client.get(f"/enquiries/{Enquiry.objects.get().pk}/").content.decode()

    assert response.status_code == 200
    assert Enquiry.objects.get().message == message
    assert escape(message) in page
    # Its text direction is its own: an override inside cannot reorder the page around it.
    assert '<div class="user-text" dir="auto">' in page


@pytest.mark.parametrize("message", ["   ", "\n\n\t"])
def test_a_blank_message_is_refused(client, message):
    response = client.post("/enquiries/query/", _query(message=message))

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Enquiry.objects.exists()
