"""The OpenAPI document tells the truth about the letter calls: each declares the codes it
answers, and only those. Every call answers 401 signed out and 403 before the two-factor
sign-in (staff, or a patient who turned it on); looked up by an id, a letter or encounter that
is unknown or not the caller's to see is 404, never 403 (only a draft's author is told 403, on
saving or sending it)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from clinic.accounts.middleware import TWO_FACTOR_NEEDED
from clinic.accounts.models import Role
from tests import factories
from tests.clinic.records.test_letters import record_case, save, send, start
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
UNKNOWN = 999999


@pytest.fixture
def case(db, staff, patient_user):
    return record_case(patient_user=patient_user, staff=staff)


def _calls(updated_at: str) -> list[tuple[str, str, dict]]:
    """(method, path as the document names it, body) for every letter call."""
    edit = {"to_gp": False, "to_referrer": False, "copy_to_patient": True, "plan": "Mine."}
    return [
        ("get", "/api/v1/encounters/{encounter_id}/letters", {}),
        ("post", "/api/v1/encounters/{encounter_id}/letters", {}),
        ("get", "/api/v1/letters/{letter_id}", {}),
        ("put", "/api/v1/letters/{letter_id}", edit | {"updated_at": updated_at}),
        ("post", "/api/v1/letters/{letter_id}/send", {"updated_at": updated_at}),
        ("get", "/api/v1/letters/{letter_id}/pdf", {}),
        ("get", "/api/v1/me/letters", {}),
        ("get", "/api/v1/me/letters/{letter_id}", {}),
        ("get", "/api/v1/me/letters/{letter_id}/pdf", {}),
    ]


def _answers(client, encounter_id: int, letter_id: int, updated_at: str) -> dict:
    """Each call's answer, by (method, path as the document names it)."""
    ids = {"encounter_id": encounter_id, "letter_id": letter_id}
    return {
        (method, path): getattr(client, method)(path.format(**ids), body, content_type=JSON)
        for method, path, body in _calls(updated_at)
    }


def _declared(client) -> dict[tuple[str, str], set[int]]:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    return {
        (method, path): {int(code) for code in operation["responses"]}
        for path, operations in paths.items()
        if "letters" in path
        for method, operation in operations.items()
    }


def test_every_letter_call_answers_only_codes_it_declares(client, case):
    """Each call, as everyone who may ask it: its answer is one the document declares."""
    clinician, patient_user = case["clinician"], case["patient"].user
    letter = save(case, start(case))
    other = factories.user(role=Role.CLINICIAN)
    sent = send(case, save(case, start(case, other), user=other), user=other)
    encounter_id = case["encounter"].pk
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)

    def ask(user, *, second_factor=True, letter_id=letter.pk, encounter=encounter_id) -> None:
        client.logout()
        if user is not None:
            sign_in(client, user, second_factor=second_factor)
        version = letter.updated_at.isoformat()
        for call, answer in _answers(client, encounter, letter_id, version).items():
            seen[call].add(answer.status_code)

    ask(None)  # signed out
    ask(clinician, second_factor=False)
    ask(clinician)
    ask(clinician, letter_id=sent.pk)
    ask(factories.user(role=Role.CLINICIAN))  # not the author
    ask(clinician, letter_id=UNKNOWN, encounter=UNKNOWN)
    ask(case["reception"])
    ask(case["admin"])
    ask(patient_user, second_factor=False)
    ask(patient_user, letter_id=sent.pk)

    declared = _declared(client)
    assert set(seen) == set(declared)
    for call, statuses in seen.items():
        assert statuses <= declared[call], call


def test_a_letter_asked_for_by_id_is_never_403_but_for_two_factor_or_authorship(client, case):
    letter = save(case, start(case))
    version = letter.updated_at.isoformat()
    encounter_id = case["encounter"].pk

    forbidden = {}
    for user in (case["reception"], case["admin"], factories.user(role=Role.CLINICIAN)):
        client.logout()
        sign_in(client, user)
        answers = _answers(client, encounter_id, letter.pk, version)
        forbidden[user.role] = sorted(
            path for (_method, path), answer in answers.items() if answer.status_code == 403
        )

    # Reception and administrators: 404 everywhere; a colleague: 403 on the author's calls.
    assert forbidden == {
        Role.RECEPTION: [],
        Role.ADMIN: [],
        Role.CLINICIAN: ["/api/v1/letters/{letter_id}", "/api/v1/letters/{letter_id}/send"],
    }


def test_before_two_factor_every_letter_call_is_403_as_declared(client, case):
    letter = save(case, start(case))
    sign_in(client, case["clinician"], second_factor=False)

    answers = _answers(client, case["encounter"].pk, letter.pk, letter.updated_at.isoformat())

    assert {answer.status_code for answer in answers.values()} == {403}
    assert {answer.json()["detail"] for answer in answers.values()} == {TWO_FACTOR_NEEDED}
    client.logout()  # the document too waits for the second factor
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for method, path in answers:
        responses = paths[path][method]["responses"]
        assert "Two-factor sign-in" in responses["403"]["description"], path
        assert set(responses) >= {"401", "403", "404"}, path


def test_the_pdf_calls_declare_the_pdf_and_their_refusals(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in ("/api/v1/letters/{letter_id}/pdf", "/api/v1/me/letters/{letter_id}/pdf"):
        responses = paths[path]["get"]["responses"]
        assert set(responses) == {"200", "401", "403", "404"}, path
        assert "application/pdf" in responses["200"]["content"]
        assert "not told" in responses["404"]["description"]
