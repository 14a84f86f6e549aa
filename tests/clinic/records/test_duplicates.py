"""Duplicate detection on registration: the rules (pure), one query to find look-alikes, the
web page that asks for confirmation, and the API's 409 with the candidates' numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.records.duplicates import (
    MatchReason,
    Person,
    day_month_swapped,
    duplicates_for_user,
    fold_name,
    likely_duplicates,
    match_reason,
)
from clinic.records.forms import CONFIRM_NOT_DUPLICATE
from clinic.records.models import Patient
from tests import factories
from tests.conftest import sign_in

OLIVER = Person("Oliver", "Example", date(1988, 11, 3))
NEW = {
    "given_name": "Oliver",
    "family_name": "Example",
    "date_of_birth": "03/11/1988",
    "consents_to_email": "on",
    "consents_to_gp_letters": "on",
}
API_NEW = {"given_name": "Oliver", "family_name": "Example", "date_of_birth": "1988-11-03"}
WARNING = "These patients look alike. Create anyway?"

# The rules, as pure functions.


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Example", "example"),
        ("EXAMPLE", "example"),
        ("Núñez", "nunez"),
        ("O'Brien-Smith", "obriensmith"),
        ("o brien smith", "obriensmith"),
        ("Łukasz", "lukasz"),  # no decomposition, but typed as L on English keyboards
        ("IŞIK", "isik"),
        ("I\u015f\u0131k", "isik"),  # with a dotless i
        ("Straße", "strasse"),
        ("  Zoë  ", "zoe"),
    ],
)
def test_names_fold_case_accents_and_punctuation(typed, folded):
    assert fold_name(typed) == folded


@pytest.mark.parametrize(
    ("born", "swapped"),
    [
        (date(1988, 11, 3), date(1988, 3, 11)),
        (date(1988, 3, 11), date(1988, 11, 3)),
        (date(1988, 5, 5), None),  # the same date either way
        (date(1988, 3, 13), None),  # no 13th month
        (date(1988, 2, 29), None),  # 29 February: day 29 is no month
        (date(2001, 12, 1), date(2001, 1, 12)),
    ],
)
def test_day_and_month_swap_only_where_both_orders_are_dates(born, swapped):
    assert day_month_swapped(born) == swapped


@pytest.mark.parametrize(
    ("existing", "reason"),
    [
        (OLIVER, MatchReason.SAME_BIRTH_DATE_AND_FAMILY_NAME),
        (
            Person("Olly", "EXAMPLE", OLIVER.date_of_birth),
            MatchReason.SAME_BIRTH_DATE_AND_FAMILY_NAME,
        ),
        (
            Person("Oliver", "Exámple", OLIVER.date_of_birth),
            MatchReason.SAME_BIRTH_DATE_AND_FAMILY_NAME,
        ),
        (Person("oliver", "example", date(1988, 3, 11)), MatchReason.SAME_NAME_DAY_MONTH_SWAPPED),
        (Person("Olly", "Example", date(1988, 3, 11)), None),  # swapped date needs both names
        (Person("Oliver", "Sample", OLIVER.date_of_birth), None),
        (Person("Oliver", "Example", date(1988, 11, 4)), None),
        (Person("Oliver", "Example", date(1989, 11, 3)), None),
    ],
)
def test_match_rules(existing, reason):
    assert match_reason(OLIVER, existing) == reason


def test_names_of_punctuation_only_never_match():
    dash = Person("-", "-", date(1990, 1, 2))

    assert match_reason(dash, dash) is None


# Dates whose day is a valid month and differs from the month: valid in both orders.
SWAPPABLE = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)).filter(
    lambda value: value.day <= 12 and value.day != value.month
)
# Latin letters, with the accented and extended ones (Latin-1 Supplement, Extended-A): each
# folds to at least one letter (a few letters elsewhere, such as U+037A, fold to nothing).
NAMES = st.text(
    alphabet=st.characters(categories=["L"], max_codepoint=0x17F), min_size=1, max_size=20
)


@given(born=SWAPPABLE, given_name=NAMES, family_name=NAMES)
def test_a_day_month_swap_of_the_same_name_is_always_found(born, given_name, family_name):
    swapped = day_month_swapped(born)

    assert swapped is not None
    assert day_month_swapped(swapped) == born
    new = Person(given_name, family_name, born)
    assert match_reason(new, Person(given_name, family_name, swapped)) is not None


@given(born=st.dates(), given_name=NAMES, family_name=NAMES)
def test_the_same_name_in_another_case_always_matches(born, given_name, family_name):
    new = Person(given_name, family_name, born)
    shouted = Person(given_name.upper(), family_name.upper(), born)

    assert match_reason(new, shouted) == MatchReason.SAME_BIRTH_DATE_AND_FAMILY_NAME


@given(born=st.dates(), other=st.dates())
def test_a_different_family_name_never_matches(born, other):
    assert match_reason(OLIVER, Person("Oliver", "Sample", born)) is None
    assert match_reason(Person("A", "Smith", born), Person("A", "Jones", other)) is None


# One query over the database.


@pytest.mark.django_db
def test_look_alikes_are_found_in_one_query(django_assert_num_queries):
    same = factories.patient(
        given_name="Olly", family_name="EXAMPLE", date_of_birth=OLIVER.date_of_birth
    )
    swapped = factories.patient(
        given_name="Oliver", family_name="Example", date_of_birth=date(1988, 3, 11)
    )
    factories.patient(given_name="Oliver", family_name="Example", date_of_birth=date(1988, 11, 4))
    factories.patient(given_name="Oliver", family_name="Sample", date_of_birth=OLIVER.date_of_birth)
    for _ in range(10):
        factories.patient(date_of_birth=OLIVER.date_of_birth)

    with django_assert_num_queries(1):
        found = likely_duplicates(OLIVER)

    assert {(c.patient, c.reason) for c in found} == {
        (same, MatchReason.SAME_BIRTH_DATE_AND_FAMILY_NAME),
        (swapped, MatchReason.SAME_NAME_DAY_MONTH_SWAPPED),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.PATIENT, Role.ADMIN])
def test_only_staff_who_register_patients_may_see_look_alikes(role):
    existing = factories.patient(
        given_name="Oliver", family_name="Example", date_of_birth=OLIVER.date_of_birth
    )
    actor = factories.user(role=role)

    with pytest.raises(AccessRefused):
        duplicates_for_user(context=AuditContext(actor=actor), new=OLIVER)

    assert AuditEntry.objects.filter(actor=actor, outcome="refused").count() == 1
    assert not AuditEntry.objects.filter(patient=existing).exists()


# The registration page.


@pytest.fixture
def oliver(db):
    return factories.patient(
        given_name="Oliver",
        family_name="Example",
        date_of_birth=OLIVER.date_of_birth,
        hospital_number="DC0000002",
    )


@pytest.mark.django_db
def test_registering_a_look_alike_shows_the_candidates_and_writes_nothing(client, staff, oliver):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/records/patients/new/", NEW)

    page = response.content.decode()
    assert response.status_code == 409
    assert WARNING in page
    assert "None of these is the same person" in page
    assert "DC0000002" in page
    assert "03/11/1988" in page
    assert f'href="/records/patients/{oliver.pk}/"' in page
    assert Patient.objects.count() == 1
    # Showing a look-alike is a read of their record.
    entry = AuditEntry.objects.get(patient=oliver)
    assert (entry.action, entry.outcome, entry.detail) == (
        "read",
        "allowed",
        "shown as a possible duplicate of a new patient",
    )


def _confirm(client, first_response, **changes):
    """Submit the confirmation as the browser would: the hidden field as the page set it."""
    page = first_response.content.decode()
    start = page.index('name="checked_for" value="') + len('name="checked_for" value="')
    checked_for = page[start : page.index('"', start)]
    return client.post("/records/patients/new/", NEW | {"checked_for": checked_for, **changes})


@pytest.mark.django_db
def test_ticking_none_of_these_registers_the_patient_and_the_audit_says_so(client, staff, oliver):
    sign_in(client, staff[Role.RECEPTION])
    warned = client.post("/records/patients/new/", NEW)

    response = _confirm(client, warned, not_duplicate="on")

    assert response.status_code == 302
    new = Patient.objects.exclude(pk=oliver.pk).get()
    entry = AuditEntry.objects.get(patient=new, action="create")
    assert entry.detail == "registered; confirmed not the same person as DC0000002"


@pytest.mark.django_db
def test_confirming_without_the_tick_asks_again_with_a_message(client, staff, oliver):
    sign_in(client, staff[Role.RECEPTION])
    warned = client.post("/records/patients/new/", NEW)

    response = _confirm(client, warned)

    assert response.status_code == 409
    assert CONFIRM_NOT_DUPLICATE in response.content.decode()
    assert "None of these is the same person" in response.content.decode()
    assert Patient.objects.count() == 1


@pytest.mark.django_db
def test_a_tick_given_for_other_details_does_not_confirm_these(client, staff, oliver):
    factories.patient(given_name="Olivia", family_name="Example", date_of_birth=date(1990, 1, 2))
    sign_in(client, staff[Role.RECEPTION])
    warned = client.post("/records/patients/new/", NEW)

    # The user changes the details to match someone else, and ticks the old box.
    response = _confirm(
        client, warned, not_duplicate="on", given_name="Olivia", date_of_birth="02/01/1990"
    )

    assert response.status_code == 409
    assert "Olivia" in response.content.decode()
    assert Patient.objects.count() == 2


@pytest.mark.django_db
def test_no_look_alikes_registers_at_once(client, staff, oliver):
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post("/records/patients/new/", NEW | {"family_name": "Different"})

    assert response.status_code == 302
    assert not AuditEntry.objects.filter(patient=oliver).exists()


@pytest.mark.django_db
def test_the_same_nhs_number_is_still_refused_outright(client, staff):
    factories.patient(
        nhs_number="9434765919",
        given_name="Oliver",
        family_name="Example",
        date_of_birth=OLIVER.date_of_birth,
    )
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        "/records/patients/new/", NEW | {"nhs_number": "9434765919", "not_duplicate": "on"}
    )

    assert response.status_code == 400
    assert "Another patient already has this NHS number." in response.content.decode()


@pytest.mark.django_db
def test_markup_in_a_look_alikes_name_is_escaped(client, staff):
    factories.patient(
        given_name="<script>x</script>", family_name="Example", date_of_birth=OLIVER.date_of_birth
    )
    sign_in(client, staff[Role.RECEPTION])

    page = client.post("/records/patients/new/", NEW).content.decode()

    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x</script>" not in page


# The API.


@pytest.mark.django_db
def test_the_api_answers_409_with_the_candidates_hospital_numbers(client, staff, oliver):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post("/api/v1/patients", API_NEW, content_type="application/json")

    body = response.json()
    assert response.status_code == 409
    assert body["candidates"] == ["DC0000002"]
    assert body["errors"][0]["parameter"] == "confirm_not_duplicate"
    assert Patient.objects.count() == 1
    assert AuditEntry.objects.filter(patient=oliver, action="read", channel="api").exists()


@pytest.mark.django_db
def test_the_api_registers_a_look_alike_when_confirmed(client, staff, oliver):
    sign_in(client, staff[Role.CLINICIAN])

    response = client.post(
        "/api/v1/patients",
        API_NEW | {"confirm_not_duplicate": True},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Patient.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yes", 1, "true", None, [True]])
def test_the_api_confirmation_must_be_true_or_false(client, staff, oliver, value):
    sign_in(client, staff[Role.RECEPTION])

    response = client.post(
        "/api/v1/patients",
        API_NEW | {"confirm_not_duplicate": value},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "confirm_not_duplicate"
    assert Patient.objects.count() == 1
