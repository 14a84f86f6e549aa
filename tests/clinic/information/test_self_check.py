"""The symptom self-check page: urgent advice first, plain-language advice, never a diagnosis."""

from __future__ import annotations

import re

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
    assert 'action="/enquiries/query/"' in page


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


def _query_button(page: str) -> str:
    """The markup of the form that sends the answers to the query page."""
    match = re.search(r'<form method="post" action="/enquiries/query/".*?</form>', page, re.S)
    assert match is not None
    return match.group(0)


def test_the_answers_go_to_the_query_form_in_a_post_never_in_a_url(client):
    page = client.post("/self-check/", ALL_NO | {"neck_turning": "yes"}).content.decode()

    form = _query_button(page)
    assert "?selfcheck=" not in page
    assert 'name="csrfmiddlewaretoken"' in form
    token = re.search(r'name="selfcheck" value="([^"]+)"', form)
    assert token is not None
    assert 'class="button button-primary"' in form

    query_page = client.post("/enquiries/query/", {"selfcheck": token.group(1)})

    content = query_page.content.decode()
    assert query_page.status_code == 200
    assert "Your self-check answers will be sent with this query" in content
    assert "Does your neck twist, turn or tilt to one side by itself? Yes" in content
    assert "There is a problem" not in content
    assert f'name="selfcheck" value="{token.group(1)}"' in content


def test_answers_in_a_url_are_ignored(client):
    page = client.post("/self-check/", ALL_NO | {"neck_turning": "yes"}).content.decode()
    token = re.search(r'name="selfcheck" value="([^"]+)"', page)
    assert token is not None

    content = client.get("/enquiries/query/", {"selfcheck": token.group(1)}).content.decode()

    assert "Your self-check answers will be sent with this query" not in content


def test_an_urgent_result_leads_with_the_urgent_advice_not_the_query(client):
    page = client.post("/self-check/", ALL_NO | {"urgent": ["breathing"]}).content.decode()

    form = _query_button(page)
    assert "Get help now if you have any of these" in page
    assert page.index("Get help now if you have any of these") < page.index(form)
    assert "button-primary" not in form
    assert "not for emergencies" in page


def test_every_error_summary_link_leads_to_an_element_on_the_page(client):
    page = client.post("/self-check/", {"urgent": ["not-a-sign"]}).content.decode()

    start = page.index('class="error-summary"')
    summary = page[start : page.index("</ul>", start)]
    targets = re.findall(r'href="#([^"]*)"', summary)
    assert len(targets) == len(QUESTIONS) + 1
    for target in targets:
        assert target
        assert f'id="{target}"' in page
    assert "#id_urgent_0" in summary


def test_the_urgent_group_error_is_the_element_its_fieldset_and_boxes_point_to(client):
    page = client.post("/self-check/", ALL_NO | {"urgent": ["not-a-sign"]}).content.decode()

    fieldset = re.search(r'<fieldset[^>]*id="id_urgent"[^>]*>', page)
    assert fieldset is not None
    assert "id_urgent_error" in fieldset.group(0)
    assert 'id="id_urgent_error"' in page
    for described_by in re.findall(r'aria-describedby="([^"]*)"', page):
        for target in described_by.split():
            assert f'id="{target}"' in page
