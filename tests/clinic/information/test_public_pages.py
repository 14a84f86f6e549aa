"""Public information pages: every page renders, carries the disclaimer, sets no cookies and
loads nothing from other hosts; the definitions follow the 2013 consensus."""

from __future__ import annotations

import re

import pytest

from clinic.information.models import Story
from clinic.information.pages import DYSTONIA_PAGES

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = [
    "/",
    "/dystonia/",
    *[f"/dystonia/{page.slug}/" for page in DYSTONIA_PAGES],
    "/sites/",
    "/sites/london-neurosurgery-partnership/",
    "/find-a-doctor/",
    "/practitioners/amara-okafor/",
    "/stories/",
    "/stories/back-to-the-drawing-board/",
    "/news/",
    "/news/saturday-toxin-clinics/",
    "/privacy/",
    "/accessibility/",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_every_public_page_renders_with_the_medical_disclaimer(client, demo_data, path):
    response = client.get(path)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Medical disclaimer" in page
    assert "It is not a diagnosis" in page
    assert '<html lang="en-GB">' in page
    assert 'href="#main"' in page  # skip link for keyboard users


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_reading_public_pages_sets_no_cookies(client, demo_data, path):
    response = client.get(path)

    assert response.cookies == {}


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_pages_load_nothing_from_other_hosts(client, demo_data, path):
    page = client.get(path).content.decode()

    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assets = [s for s in sources if s.endswith((".css", ".js", ".png", ".svg", ".woff2"))]
    assert assets, "every page loads the site's own stylesheet"
    assert all(asset.startswith("/static/") for asset in assets)


def test_content_security_policy_allows_only_this_site(client, db):
    policy = client.get("/").headers["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "http" not in policy


def test_home_links_to_every_page_about_dystonia(client, demo_data):
    page = client.get("/").content.decode()

    for info in DYSTONIA_PAGES:
        assert f'href="/dystonia/{info.slug}/"' in page


def test_unknown_information_page_is_a_404(client, db):
    assert client.get("/dystonia/not-a-page/").status_code == 404


def test_types_page_follows_the_2013_consensus_definitions(client, db):
    page = client.get("/dystonia/types/").content.decode()

    # Albanese 2013 via shared/reference/clinical.md section 1.3
    for term in ["Focal", "Segmental", "Multifocal", "Generalised", "Hemidystonia"]:
        assert term in page
    assert "same side" in page  # hemidystonia: arm and leg of one side
    assert "trunk" in page.lower()  # generalised: the trunk plus at least two other regions
    assert "not a dystonia" in page.lower()  # hemifacial spasm
    for form in ["Cervical dystonia", "Blepharospasm", "Writer", "Hemifacial spasm", "Myoclonus"]:
        assert form in page


def test_what_is_dystonia_says_it_is_not_always_progressive(client, db):
    page = client.get("/dystonia/what-is-dystonia/").content.decode()

    assert "not always" in page.lower()


@pytest.mark.parametrize(
    ("slug", "phrases"),
    [
        ("causes", ["Parkinson", "Huntington", "Wilson", "stroke", "tumour", "inherited"]),
        ("diagnosis", ["family history", "blood", "urine", "MRI", "electromyography"]),
        (
            "treatments",
            ["botulinum toxin", "physiotherapy", "speech", "deep brain stimulation", "denervation"],
        ),
        ("outlook", ["remission"]),
        ("symptoms", ["999", "swallowing", "breathing"]),
    ],
)
def test_information_pages_cover_what_the_unit_lists(client, db, slug, phrases):
    page = client.get(f"/dystonia/{slug}/").content.decode().lower()

    for phrase in phrases:
        assert phrase.lower() in page


def test_unpublished_stories_are_hidden(client, demo_data):
    Story.objects.filter(slug="finding-my-voice").update(is_published=False)

    assert client.get("/stories/finding-my-voice/").status_code == 404
    assert "Finding my voice" not in client.get("/stories/").content.decode()


def test_example_stories_say_they_are_made_up(client, demo_data):
    page = client.get("/stories/back-to-the-drawing-board/").content.decode()

    assert "made up to demonstrate the software" in page


def test_story_body_is_escaped_not_rendered_as_html(client, demo_data):
    Story.objects.filter(slug="finding-my-voice").update(body="<script>alert(1)</script>")

    page = client.get("/stories/finding-my-voice/").content.decode()
    assert "<script>alert(1)</script>" not in page


def test_privacy_notice_names_the_only_cookies(client, db):
    page = client.get("/privacy/").content.decode()

    assert "csrftoken" in page
    assert "sessionid" in page
    assert "no cookies" in page.lower()
