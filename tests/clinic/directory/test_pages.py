"""The public directory pages: sites, one site, find a doctor, one practitioner."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.directory.forms import TEXT_TOO_LONG, UNKNOWN_CHOICE
from tests import factories

pytestmark = pytest.mark.django_db

LNP = "london-neurosurgery-partnership"


def test_sites_page_lists_all_six_sites_with_address_telephone_and_hours(client, demo_data):
    response = client.get("/sites/")

    page = response.content.decode()
    assert response.status_code == 200
    for name, address in [
        ("London Neurosurgery Partnership", "78 Harley Street"),
        ("The Harley Street Clinic", "35 Weymouth Street"),
        ("The Portland Hospital", "205-209 Great Portland Street"),
        ("The Lister Hospital", "Chelsea Bridge Road"),
        ("The Shard Outpatients", "The Shard, 32 St Thomas Street"),
        ("London Bridge Hospital", "27 Tooley Street"),
    ]:
        assert name in page
        assert address in page
    assert "020 7946 0100" in page
    assert "Example number" in page
    assert "08:00" in page
    assert "18:00" in page
    assert "Example hours" in page


def test_site_page_shows_services_and_practitioners(client, demo_data):
    response = client.get(f"/sites/{LNP}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "78 Harley Street" in page
    assert "W1G 7HJ" in page
    assert "Botulinum toxin clinic" in page
    assert "DBS programming" in page
    assert "Dr Amara Okafor" in page
    assert "Fictional" in page


def test_unknown_site_is_a_404_in_the_site_layout(client, db):
    response = client.get("/sites/no-such-site/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_find_a_doctor_lists_everyone_without_filters(client, demo_data):
    response = client.get("/find-a-doctor/")

    assert response.status_code == 200
    assert "8 practitioners found" in response.content.decode()


def test_find_a_doctor_filters_by_site_and_specialty(client, demo_data):
    response = client.get("/find-a-doctor/", {"site": LNP, "specialty": "neurology"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "3 practitioners found" in page
    assert "Dr Amara Okafor" in page
    assert "Eleanor Whitfield" not in page  # a neurosurgeon


def test_find_a_doctor_filters_by_service(client, demo_data):
    response = client.get("/find-a-doctor/", {"service": "emg"})

    page = response.content.decode()
    assert "1 practitioner found" in page
    assert "Dr Tomas Lindqvist" in page


def test_find_a_doctor_matches_words_in_interests(client, demo_data):
    response = client.get("/find-a-doctor/", {"q": "blepharospasm"})

    assert "Dr Henry Castellan" in response.content.decode()


@pytest.mark.parametrize("query", ["", "   ", "zzzz qqqq", "'; DROP TABLE directory_site; --"])
def test_find_a_doctor_handles_empty_and_nonsense_words(client, demo_data, query):
    response = client.get("/find-a-doctor/", {"q": query})

    assert response.status_code == 200
    page = response.content.decode()
    assert "practitioner" in page


def test_find_a_doctor_with_no_match_offers_to_clear_filters(client, demo_data):
    response = client.get("/find-a-doctor/", {"q": "zzzz"})

    page = response.content.decode()
    assert "0 practitioners found" in page
    assert "clear the filters" in page


def test_find_a_doctor_escapes_markup_in_the_query(client, demo_data):
    response = client.get("/find-a-doctor/", {"q": "<script>alert(1)</script>"})

    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_find_a_doctor_rejects_a_very_long_query_with_a_message(client, demo_data):
    response = client.get("/find-a-doctor/", {"q": "x" * 5000})

    page = response.content.decode()
    assert response.status_code == 400
    assert TEXT_TOO_LONG in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("field", ["site", "specialty", "service"])
def test_find_a_doctor_rejects_an_unknown_choice_beside_the_field(client, demo_data, field):
    response = client.get("/find-a-doctor/", {field: "does-not-exist"})

    page = response.content.decode()
    assert response.status_code == 400
    assert UNKNOWN_CHOICE in page
    assert f'id="id_{field}_error"' in page


def test_find_a_doctor_htmx_request_gets_only_the_results(client, demo_data):
    response = client.get("/find-a-doctor/", {"service": "emg"}, headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "1 practitioner found" in page
    assert "<html" not in page


def test_find_a_doctor_refuses_posts(client, db):
    assert client.post("/find-a-doctor/").status_code == 405


def test_practitioner_page_shows_role_sites_and_services(client, demo_data):
    response = client.get("/practitioners/tomas-lindqvist/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Consultant clinical neurophysiologist" in page
    assert "London Bridge Hospital" in page
    assert "EMG" in page
    assert "fictional practitioner" in page


def test_inactive_practitioner_is_not_shown(client, db):
    gone = factories.practitioner(is_active=False)

    assert client.get(gone.get_absolute_url()).status_code == 404
    assert gone.display_name not in client.get("/find-a-doctor/").content.decode()


def test_directory_pages_use_a_fixed_number_of_queries(
    client, demo_data, django_assert_max_num_queries
):
    extra_site = factories.site()
    for _ in range(10):
        factories.practitioner(sites=[extra_site], services=[factories.service()])

    with django_assert_max_num_queries(8):
        client.get(reverse("directory:find-doctor"))
    with django_assert_max_num_queries(8):
        client.get(reverse("directory:site-list"))
    with django_assert_max_num_queries(10):
        client.get(extra_site.get_absolute_url())
