"""The symptom self-check page: urgent advice first, plain-language advice, never a diagnosis."""

from __future__ import annotations

import pytest

from dystonia.selfcheck import QUESTIONS, URGENT_SIGNS

pytestmark = pytest.mark.django_db
ALL_NO = {q.id: "no" for q in QUESTIONS}


def test_the_form_shows_the_urgent_advice_before_any_question(client):
    page = client.get("/self-check/").content.decode()

    assert page.index("Get help now if you have any of these") < page.index(QUESTIONS[0].text)
    for sign in URGENT_SIGNS:
        assert sign.text in page
    assert "nothing you enter here is stored" in page


def test_a_symptom_leads_to_a_specialist_with_the_disclaimer_and_next_steps(client):
    response = client.post("/self-check/", ALL_NO | {"neck_turning": "yes"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "See a dystonia specialist" in page
    assert "This is not a diagnosis" in page
    assert "/find-a-doctor/?service=new-consultation" in page
    assert "/enquiries/query/?selfcheck=" in page


def test_an_urgent_sign_gives_urgent_advice(client):
    response = client.post("/self-check/", ALL_NO | {"urgent": ["breathing"]})

    assert "Get help now" in response.content.decode()
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        ALL_NO | {"spasms": "maybe"},
        ALL_NO | {"spasms": "<script>alert(1)</script>"},
        ALL_NO | {"urgent": ["not-a-sign"]},
        {k: v for k, v in ALL_NO.items() if k != "tremor"},
    ],
)
def test_incomplete_or_bad_answers_are_400_beside_the_question(client, data):
    response = client.post("/self-check/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "<script>alert(1)</script>" not in page


def test_nothing_is_stored_and_no_cookie_is_needed_to_read_the_form(client):
    response = client.get("/self-check/")

    assert response.status_code == 200
