"""Password reset by email, and session expiry with a warning that can be answered."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_password_reset_by_email(client, patient_user):
    response = client.post("/accounts/password-reset/", {"email": patient_user.email})
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body
    ).group(1)
    form = client.get(link, follow=True)
    new = "another long made-up passphrase"
    done = client.post(form.request["PATH_INFO"], {"new_password1": new, "new_password2": new})

    assert response.status_code == 302
    assert done.status_code == 302
    assert (
        client.post(
            "/accounts/sign-in/", {"email": patient_user.email, "password": new}
        ).status_code
        == 302
    )


def test_password_reset_for_an_unknown_address_looks_the_same(client, db):
    response = client.post(
        "/accounts/password-reset/", {"email": "nobody@example.org"}, follow=True
    )

    assert "If an account uses that address" in response.content.decode()
    assert not mail.outbox


def test_a_weak_new_password_is_refused(client, patient_user):
    client.post("/accounts/password-reset/", {"email": patient_user.email})
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body
    ).group(1)
    form = client.get(link, follow=True)

    response = client.post(
        form.request["PATH_INFO"], {"new_password1": "123", "new_password2": "123"}
    )

    assert response.status_code == 200
    assert "too short" in response.content.decode()


def test_sessions_end_after_inactivity():
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_TIMEOUT_SECONDS
    assert settings.SESSION_EXPIRY_WARNING_SECONDS < settings.SESSION_IDLE_TIMEOUT_SECONDS
    # Activity is written at most a minute apart: well inside the warning's two minutes.
    assert settings.SESSION_ACTIVITY_WRITE_SECONDS < settings.SESSION_EXPIRY_WARNING_SECONDS


def test_activity_moves_the_expiry_forward_but_not_on_every_request(client, patient_user):
    sign_in(client, patient_user, second_factor=False)
    session = Session.objects.get(session_key=client.session.session_key)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=5))

    client.get("/my/")
    after_first = Session.objects.get(pk=session.pk).expire_date
    client.get("/my/")
    after_second = Session.objects.get(pk=session.pk).expire_date

    assert after_first > timezone.now() + timedelta(minutes=25)
    assert after_second == after_first  # written once, not again within the minute


def test_signed_in_pages_carry_the_warning_and_a_way_to_extend(client, patient_user):
    sign_in(client, patient_user, second_factor=False)

    page = client.get("/my/").content.decode()

    assert 'id="session-warning"' in page
    assert "Stay signed in" in page
    assert f'data-session-timeout="{settings.SESSION_IDLE_TIMEOUT_SECONDS}"' in page
    assert "clinic/session.js" in page


def test_public_pages_for_visitors_have_no_timer(client, db):
    page = client.get("/").content.decode()

    assert "session-warning" not in page
    assert "session.js" not in page


def test_extending_the_session(client, patient_user):
    assert client.post("/accounts/session/extend/").status_code == 401
    sign_in(client, patient_user, second_factor=False)

    assert client.post("/accounts/session/extend/").status_code == 204
    assert client.get("/accounts/session/extend/").status_code == 405
