"""Patient sign-up and email verification."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from clinic.accounts.forms import NOT_VERIFIED, PASSWORDS_DIFFER
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEntry
from clinic.records.forms import DOB_IN_FUTURE, DOB_TOO_OLD
from clinic.records.models import Patient
from tests import factories

pytestmark = pytest.mark.django_db

VALID = {
    "given_name": "Nia",
    "family_name": "Madeup",
    "date_of_birth": "14/02/1990",
    "email": "Nia.Madeup@Example.org",
    "password1": "a long made-up passphrase",
    "password2": "a long made-up passphrase",
}


def _link(message) -> str:
    return re.search(r"http://testserver(/accounts/verify/\S+/)", message.body).group(1)


def test_sign_up_creates_an_unverified_patient_with_a_record_and_emails_a_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/sign-up/", VALID)

    user = User.objects.get(email="nia.madeup@example.org")
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert user.role == Role.PATIENT
    assert not user.email_verified
    assert user.patient_record.registered_by_patient
    assert user.patient_record.hospital_number.startswith("DC")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nia.madeup@example.org"]
    assert AuditEntry.objects.filter(patient=user.patient_record, action="create").exists()


def test_the_link_verifies_and_then_sign_in_works(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/sign-up/", VALID)

    refused = client.post(
        "/accounts/sign-in/", {"email": VALID["email"], "password": VALID["password1"]}
    )
    verified = client.get(_link(mail.outbox[0]))
    signed_in = client.post(
        "/accounts/sign-in/", {"email": VALID["email"], "password": VALID["password1"]}
    )

    assert NOT_VERIFIED in refused.content.decode()
    assert verified.status_code == 200
    assert "Email address confirmed" in verified.content.decode()
    assert signed_in.status_code == 302
    assert client.get(signed_in.headers["Location"], follow=True).request["PATH_INFO"] == "/my/"


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "eyJ1c2VyIjoxfQ:1abc:forged"])
def test_a_broken_or_forged_link_is_refused(client, token):
    response = client.get(f"/accounts/verify/{token}/")

    assert response.status_code == 400
    assert "did not work" in response.content.decode()


def test_a_link_for_a_changed_address_no_longer_works(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/sign-up/", VALID)
    User.objects.filter(email="nia.madeup@example.org").update(email="new@example.org")

    assert client.get(_link(mail.outbox[0])).status_code == 400


def test_signing_up_with_a_taken_address_reveals_nothing_and_tells_the_owner(
    client, django_capture_on_commit_callbacks
):
    factories.user(email="nia.madeup@example.org")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/sign-up/", VALID)

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    assert User.objects.filter(email="nia.madeup@example.org").count() == 1
    assert not Patient.objects.exists()
    assert mail.outbox[0].subject == "You already have an account"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password2": "something else entirely"}, "password2", PASSWORDS_DIFFER),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        (
            {"password1": "12345678901234", "password2": "12345678901234"},
            "password1",
            "entirely numeric",
        ),
        ({"password1": "password12345", "password2": "password12345"}, "password1", "too common"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"given_name": "x" * 101}, "given_name", "at most 100 characters"),
        ({"date_of_birth": "31/12/2999"}, "date_of_birth", DOB_IN_FUTURE),
        ({"date_of_birth": "01/01/1800"}, "date_of_birth", DOB_TOO_OLD),
        ({"date_of_birth": "<script>"}, "date_of_birth", "Enter a valid date."),
        ({"family_name": "Null\x00byte"}, "family_name", "Null characters are not allowed."),
        ({"password1": "p" * 500, "password2": "p" * 500}, "password1", "at most 128 characters"),
    ],
)
def test_bad_sign_ups_are_refused_beside_the_field_and_nothing_is_written(
    client, changes, field, message
):
    response = client.post("/accounts/sign-up/", VALID | changes)

    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert f'id="id_{field}_error"' in page
    assert not User.objects.exists()
    assert not Patient.objects.exists()
    assert not mail.outbox


def test_markup_in_a_name_does_not_reach_the_email_as_markup(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/sign-up/", VALID | {"given_name": "<b>Nia</b>"})

    assert User.objects.get().full_name == "<b>Nia</b> Madeup"
    assert "<b>Nia</b> Madeup" in mail.outbox[0].body  # plain text email, shown as typed


def test_resending_a_link_answers_the_same_for_unknown_addresses(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/sign-up/", VALID)
    mail.outbox.clear()

    known = client.post("/accounts/verify/resend/", {"email": "nia.madeup@example.org"})
    unknown = client.post("/accounts/verify/resend/", {"email": "nobody@example.org"})

    assert known.content == unknown.content
    assert len(mail.outbox) == 1
