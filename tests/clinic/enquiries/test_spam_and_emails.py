"""Spam resistance (an expiring form token; rate limits by network and by account, answered
429) and emails that never turn a saved write into an error page."""

from __future__ import annotations

import logging
import smtplib
import time
from unittest import mock

import pytest
from django.core import mail, signing

from clinic.accounts.models import Role
from clinic.enquiries.forms import EXPIRED, STARTED_MAX_AGE_SECONDS, STARTED_SALT
from clinic.enquiries.models import Enquiry, EnquiryMessage
from clinic.enquiries.services import RATE_LIMITED
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


def test_a_form_opened_more_than_a_day_ago_is_refused_with_a_clear_message(client):
    long_ago = time.time() - STARTED_MAX_AGE_SECONDS - 60
    with mock.patch("time.time", return_value=long_ago):  # the form was shown then
        started = _started(0)

    response = client.post("/enquiries/query/", _query(started=started))

    assert response.status_code == 400
    assert EXPIRED in response.content.decode()
    assert "reload the form" in EXPIRED
    assert not Enquiry.objects.exists()


def test_queries_are_rate_limited_per_ipv6_network_and_answered_429(client, settings):
    settings.QUERY_RATE_LIMIT_PER_HOUR = 2
    for n in range(2):
        client.post(
            "/enquiries/query/",
            _query(sender_email=f"p{n}@example.org"),
            REMOTE_ADDR=f"2001:db8:0:1::{n + 1}",
        )

    same_network = client.post(
        "/enquiries/query/", _query(sender_email="p8@example.org"), REMOTE_ADDR="2001:db8:0:1::99"
    )
    other_network = client.post(
        "/enquiries/query/", _query(sender_email="p9@example.org"), REMOTE_ADDR="2001:db8:0:2::1"
    )

    assert same_network.status_code == 429
    assert RATE_LIMITED in same_network.content.decode()
    assert other_network.status_code == 200
    assert set(Enquiry.objects.values_list("sender_network", flat=True)) == {
        "2001:db8:0:1::/64",
        "2001:db8:0:2::/64",
    }


def test_a_signed_in_sender_is_rate_limited_per_account(client, settings, patient_user):
    settings.QUERY_RATE_LIMIT_PER_HOUR = 2
    sign_in(client, patient_user, second_factor=False)
    for n in range(2):
        client.post(
            "/enquiries/query/",
            _query(sender_email=f"p{n}@example.org"),
            REMOTE_ADDR=f"192.0.2.{n + 1}",
        )

    response = client.post(
        "/enquiries/query/", _query(sender_email="p9@example.org"), REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 429
    assert RATE_LIMITED in response.content.decode()
    assert Enquiry.objects.filter(sender=patient_user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_email_failure_never_turns_a_saved_query_into_an_error(client, caplog):
    failing = mock.patch(
        "clinic.enquiries.services.send_mail", side_effect=smtplib.SMTPException("down")
    )
    with failing, caplog.at_level(logging.ERROR, logger="clinic.enquiries.services"):
        response = client.post("/enquiries/query/", _query())

    enquiry = Enquiry.objects.get()
    assert response.status_code == 200
    assert enquiry.reference in response.content.decode()
    assert any(
        record.name == "clinic.enquiries.services" and record.exc_info for record in caplog.records
    )


@pytest.mark.django_db(transaction=True)
def test_an_email_failure_never_turns_a_saved_reply_into_an_error(client, staff, caplog):
    client.post("/enquiries/query/", _query())
    enquiry = Enquiry.objects.get()
    sign_in(client, staff[Role.RECEPTION])
    failing = mock.patch(
        "clinic.enquiries.services.send_mail", side_effect=smtplib.SMTPException("down")
    )

    with failing, caplog.at_level(logging.ERROR, logger="clinic.enquiries.services"):
        response = client.post(f"/enquiries/{enquiry.pk}/reply/", {"body": "Please see your GP."})

    assert response.status_code == 302
    assert EnquiryMessage.objects.filter(enquiry=enquiry, from_staff=True).exists()
    assert "Could not send" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_emails_are_sent_after_commit(client):
    client.post("/enquiries/query/", _query())

    assert mail.outbox[0].to == ["sam@example.org"]
