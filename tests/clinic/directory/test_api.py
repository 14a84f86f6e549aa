"""The read-only public directory API and its error answers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories

pytestmark = pytest.mark.django_db

LNP = "london-neurosurgery-partnership"


def test_sites_lists_six_with_address_hours_and_services(client, demo_data):
    body = client.get("/api/v1/sites").json()

    assert body["count"] == 6
    first = body["items"][0]
    assert first["slug"] == LNP
    assert first["address"] == {"line": "78 Harley Street", "city": "London", "postcode": "W1G 7HJ"}
    assert first["opening_hours"][0] == {
        "weekday": "Monday",
        "opens": "08:00:00",
        "closes": "18:00:00",
    }
    assert "emg" in first["services"]
    assert first["is_example"] is True


def test_sites_filtered_by_service(client, demo_data):
    body = client.get("/api/v1/sites", {"service": "dbs-programming"}).json()

    assert {site["slug"] for site in body["items"]} == {LNP, "london-bridge-hospital"}


def test_practitioners_filtered_by_site_and_specialty(client, demo_data):
    body = client.get("/api/v1/practitioners", {"site": LNP, "specialty": "neurology"}).json()

    assert body["count"] == 3
    assert all(p["specialty"]["slug"] == "neurology" for p in body["items"])
    assert all(LNP in p["sites"] for p in body["items"])


def test_practitioners_text_search(client, demo_data):
    body = client.get("/api/v1/practitioners", {"q": "denervation"}).json()

    assert [p["slug"] for p in body["items"]] == ["eleanor-whitfield"]


def test_services_filtered_by_site(client, demo_data):
    body = client.get("/api/v1/services", {"site": "london-bridge-hospital"}).json()

    assert {s["slug"] for s in body["items"]} == {
        "new-consultation",
        "emg",
        "mri-ct",
        "dbs-programming",
    }


def test_pagination_limits_and_offsets(client, demo_data):
    body = client.get("/api/v1/practitioners", {"limit": 2, "offset": 1}).json()

    assert body["count"] == 8
    assert len(body["items"]) == 2


def test_openapi_document_describes_the_three_lists(client, db):
    spec = client.get("/api/v1/openapi.json").json()

    assert {"/api/v1/sites", "/api/v1/practitioners", "/api/v1/services"} <= set(spec["paths"])


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/v1/practitioners", {"site": "no-such-site"}, "site"),
        ("/api/v1/practitioners", {"specialty": "astrology"}, "specialty"),
        ("/api/v1/practitioners", {"service": "no-such-service"}, "service"),
        ("/api/v1/sites", {"service": "no-such-service"}, "service"),
        ("/api/v1/services", {"site": "no-such-site"}, "site"),
        ("/api/v1/practitioners", {"site": "BAD SLUG!"}, "site"),
        ("/api/v1/practitioners", {"site": "<script>"}, "site"),
        ("/api/v1/practitioners", {"site": "' OR 1=1 --"}, "site"),
        ("/api/v1/practitioners", {"q": "x" * 101}, "q"),
        ("/api/v1/practitioners", {"site": "a" * 81}, "site"),
        ("/api/v1/sites", {"limit": "many"}, "limit"),
        ("/api/v1/sites", {"limit": "-1"}, "limit"),
        ("/api/v1/sites", {"offset": "-5"}, "offset"),
    ],
)
def test_bad_parameters_answer_422_naming_the_parameter(client, demo_data, path, params, parameter):
    response = client.get(path, params)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Invalid request parameters."
    assert [error["parameter"] for error in body["errors"]] == [parameter]
    assert body["errors"][0]["message"].startswith(f"{parameter}: ")


def test_pattern_errors_say_what_an_identifier_looks_like(client, db):
    body = client.get("/api/v1/practitioners", {"site": "Bad Slug"}).json()

    assert "lower-case letters, digits and hyphens" in body["errors"][0]["message"]


def test_api_is_read_only(client, db):
    assert client.post("/api/v1/sites", {}).status_code == 405
    assert client.delete("/api/v1/practitioners").status_code == 405


def test_practitioner_list_uses_a_fixed_number_of_queries(
    client, db, django_assert_max_num_queries
):
    place = factories.site()
    for _ in range(12):
        factories.practitioner(sites=[place], services=[factories.service()])

    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/practitioners").json()["count"] == 12


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(["site", "specialty", "service", "q", "limit", "offset"]),
    value=st.text(max_size=200),
)
def test_no_query_value_gives_a_server_error(client, db, name, value):
    response = client.get("/api/v1/practitioners", {name: value})

    assert response.status_code in {200, 422}
