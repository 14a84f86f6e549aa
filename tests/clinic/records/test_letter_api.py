"""Clinic letters over the JSON API: start from a signed encounter (Idempotency-Key), save the
draft against the updated_at seen, send it once, download its PDF; the patient reads their own
sent copies under /me/. Clinicians only otherwise (everyone else 404: a letter is asked for by
an id, so its existence is not told), strict input answered 4xx in the one error shape with
nothing written, every call audited with channel API."""

from __future__ import annotations

import pytest

from clinic.accounts.models import Role
from clinic.audit.models import AuditEntry
from clinic.records import letters
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import Letter, LetterStatus
from clinic.records.record_api import STALE
from tests import factories
from tests.clinic.records.test_letters import (
    CLINICAL_WORDS,
    PLAN,
    pdf_text,
    record_case,
    save,
    send,
    sent_letter,
    signed_encounter,
    start,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
EVERYONE = {"to_gp": True, "to_referrer": True, "copy_to_patient": True}


@pytest.fixture
def case(db, staff, patient_user):
    return record_case(patient_user=patient_user, staff=staff)


def _errors(response) -> dict[str, str]:
    body = response.json()
    assert set(body) >= {"detail", "errors"}
    return {error["parameter"]: error["message"] for error in body["errors"]}


def _api_entries(**filters) -> int:
    return AuditEntry.objects.filter(channel="api", object_type="letter", **filters).count()


def _rows() -> list:
    return list(Letter.objects.values())


def _url(case) -> str:
    return f"/api/v1/encounters/{case['encounter'].pk}/letters"


def _edit(letter, **changes) -> dict:
    return EVERYONE | {"plan": PLAN, "updated_at": letter.updated_at.isoformat()} | changes


# For clinicians


def test_a_clinician_starts_saves_sends_and_downloads_a_letter(client, case):
    sign_in(client, case["clinician"])

    started = client.post(_url(case), {}, content_type=JSON, HTTP_IDEMPOTENCY_KEY="l-1")
    retried = client.post(_url(case), {}, content_type=JSON, HTTP_IDEMPOTENCY_KEY="l-1")
    opened = client.post(_url(case), {}, content_type=JSON)
    letter_id = started.json()["id"]
    saved = client.put(
        f"/api/v1/letters/{letter_id}",
        EVERYONE
        | {"plan": PLAN, "comments": "<b>x</b>", "updated_at": started.json()["updated_at"]},
        content_type=JSON,
    )
    draft_pdf = client.get(f"/api/v1/letters/{letter_id}/pdf")
    sent = client.post(
        f"/api/v1/letters/{letter_id}/send",
        {"updated_at": saved.json()["updated_at"]},
        content_type=JSON,
    )
    read = client.get(f"/api/v1/letters/{letter_id}").json()
    listed = client.get(_url(case)).json()
    pdf = client.get(f"/api/v1/letters/{letter_id}/pdf")

    assert started.status_code == 201
    body = started.json()
    assert (body["status"], body["to_gp"], body["author"], body["sent_to"]) == (
        "draft",
        True,
        "Dr Ann Author",
        [],
    )
    assert retried.json() == body
    assert opened.status_code == 200  # the author's open draft, not a second one
    assert opened.json()["id"] == letter_id
    assert saved.status_code == 200
    assert (saved.json()["plan"], saved.json()["comments"]) == (PLAN, "<b>x</b>")
    assert (
        draft_pdf["Content-Disposition"] == f'attachment; filename="letter-{letter_id}-draft.pdf"'
    )
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "sent"
    assert [a["role"] for a in sent.json()["sent_to"]] == ["gp", "referrer", "patient"]
    assert read["sent_to"] == sent.json()["sent_to"]
    assert [row["id"] for row in listed] == [letter_id]
    assert "plan" not in listed[0]
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="letter-{letter_id}.pdf"'
    assert "no-store" in pdf["Cache-Control"]
    assert "sternocleidomastoid" in pdf_text(pdf.content)
    assert Letter.objects.count() == 1
    assert _api_entries(action="create", outcome="allowed") == 1
    assert _api_entries(action="update", outcome="allowed") == 2
    assert _api_entries(action="export", outcome="allowed") == 2
    details = " ".join(AuditEntry.objects.values_list("detail", flat=True))
    for word in CLINICAL_WORDS:
        assert word not in details


def test_a_letter_addressed_as_asked(client, case):
    sign_in(client, case["clinician"])

    started = client.post(
        _url(case),
        {"to_gp": False, "to_referrer": True, "copy_to_patient": False},
        content_type=JSON,
    )

    assert started.status_code == 201
    assert [started.json()[name] for name in EVERYONE] == [False, True, False]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"to_gp": True}, {"to_referrer", "copy_to_patient"}),
        ({"to_gp": "yes", "to_referrer": True, "copy_to_patient": True}, {"to_gp"}),
        ({"to_gp": 1, "to_referrer": True, "copy_to_patient": True}, {"to_gp"}),
        ({"to_gp": False, "to_referrer": False, "copy_to_patient": False}, {"to_gp"}),
    ],
)
def test_bad_addressing_at_the_start_answers_422_and_writes_nothing(client, case, body, fields):
    sign_in(client, case["clinician"])

    response = client.post(_url(case), body, content_type=JSON)

    assert response.status_code == 422, response.content
    assert fields <= set(_errors(response))
    assert not Letter.objects.exists()


def test_a_letter_to_a_gp_without_consent_is_refused_naming_to_gp(client, case):
    patient = case["patient"]
    patient.consents_to_gp_letters = False
    patient.save()
    sign_in(client, case["clinician"])

    response = client.post(_url(case), EVERYONE, content_type=JSON)

    assert response.status_code == 422
    assert _errors(response)["to_gp"] == f"to_gp: {letters.GP_CONSENT_WITHDRAWN}"
    assert _api_entries(action="create", outcome="refused") == 1


def test_a_draft_encounter_is_409(client, case):
    draft = signed_encounter(
        patient=case["patient"], clinician=case["clinician"], site=case["site"], signed=False
    )
    sign_in(client, case["clinician"])

    response = client.post(f"/api/v1/encounters/{draft.pk}/letters", {}, content_type=JSON)

    assert response.status_code == 409
    assert response.json()["detail"] == letters.ENCOUNTER_NOT_SIGNED
    assert not Letter.objects.exists()


def test_a_letter_saved_since_is_409_and_a_sent_one_never_changes(client, case):
    letter = start(case)
    seen = letter.updated_at
    saved = save(case, letter, plan="Saved in another tab.")
    sign_in(client, case["clinician"])
    before = _rows()

    stale = client.put(
        f"/api/v1/letters/{letter.pk}",
        _edit(letter) | {"updated_at": seen.isoformat()},
        content_type=JSON,
    )
    unseen = client.post(
        f"/api/v1/letters/{letter.pk}/send", {"updated_at": seen.isoformat()}, content_type=JSON
    )

    for response in (stale, unseen):
        assert response.status_code == 409
        assert response.json()["detail"] == STALE
        assert response.json()["updated_at"] == saved.updated_at.isoformat()
        assert "updated_at" in _errors(response)
    assert _rows() == before
    sent = send(case, saved)
    changed = client.put(f"/api/v1/letters/{letter.pk}", _edit(sent), content_type=JSON)
    again = client.post(
        f"/api/v1/letters/{letter.pk}/send",
        {"updated_at": sent.updated_at.isoformat()},
        content_type=JSON,
    )
    assert changed.status_code == 409
    assert changed.json()["detail"] == letters.SENT_LOCKED
    assert again.status_code == 409
    assert again.json()["detail"] == letters.ALREADY_SENT


def test_only_the_author_saves_or_sends_a_draft(client, case):
    letter = save(case, start(case))
    sign_in(client, factories.user(role=Role.CLINICIAN))
    before = _rows()

    read = client.get(f"/api/v1/letters/{letter.pk}")
    saved = client.put(f"/api/v1/letters/{letter.pk}", _edit(letter), content_type=JSON)
    sent = client.post(
        f"/api/v1/letters/{letter.pk}/send",
        {"updated_at": letter.updated_at.isoformat()},
        content_type=JSON,
    )

    assert read.status_code == 200
    assert (saved.status_code, sent.status_code) == (403, 403)
    assert "Dr Ann Author" in saved.json()["detail"]
    assert _rows() == before


def test_sending_without_a_plan_is_422(client, case):
    letter = start(case)
    sign_in(client, case["clinician"])

    response = client.post(
        f"/api/v1/letters/{letter.pk}/send",
        {"updated_at": letter.updated_at.isoformat()},
        content_type=JSON,
    )

    assert response.status_code == 422
    assert _errors(response)["plan"] == f"plan: {letters.PLAN_REQUIRED}"
    assert Letter.objects.get().status == LetterStatus.DRAFT


BAD_EDITS = [
    ({"plan": "a\x00b"}, "plan"),
    ({"plan": "x" * (letters.PLAN_MAX_LENGTH + 1)}, "plan"),
    ({"plan": 5}, "plan"),
    ({"comments": "c\x00"}, "comments"),
    ({"comments": None}, "comments"),
    ({"to_gp": "true"}, "to_gp"),
    ({"copy_to_patient": None}, "copy_to_patient"),
    ({"to_gp": False, "to_referrer": False, "copy_to_patient": False}, "to_gp"),
    ({"updated_at": "2026-01-01T10:00:00"}, "updated_at"),
    ({"updated_at": None}, "updated_at"),
]


@pytest.mark.parametrize(("change", "field"), BAD_EDITS)
def test_bad_edits_answer_422_naming_the_field_and_change_nothing(client, case, change, field):
    letter = start(case)
    sign_in(client, case["clinician"])
    before = _rows()

    response = client.put(f"/api/v1/letters/{letter.pk}", _edit(letter) | change, content_type=JSON)

    assert response.status_code == 422, response.content
    assert field in _errors(response)
    assert _rows() == before


def test_a_nul_in_the_plan_is_refused_with_the_services_message_and_audited(client, case):
    letter = start(case)
    sign_in(client, case["clinician"])

    response = client.put(
        f"/api/v1/letters/{letter.pk}", _edit(letter, plan="a\x00"), content_type=JSON
    )

    assert _errors(response)["plan"] == f"plan: {NUL_CHARACTER}"
    assert _api_entries(action="update", outcome="refused") == 1


@pytest.mark.parametrize("body", [{}, {"updated_at": 5}, [], "{not json"])
def test_a_send_needs_the_updated_at_read(client, case, body):
    letter = save(case, start(case))
    sign_in(client, case["clinician"])

    response = client.post(f"/api/v1/letters/{letter.pk}/send", body, content_type=JSON)

    assert 400 <= response.status_code < 500
    assert Letter.objects.get().status == LetterStatus.DRAFT


# The patient's own copies


def test_a_patient_reads_and_downloads_their_own_sent_copies_only(client, case, other_patient):
    mine = sent_letter(case)
    not_copied = sent_letter(case, to_gp=True, to_referrer=False, copy_to_patient=False)
    draft = start(case, user=factories.user(role=Role.CLINICIAN))
    other_case = case | {
        "patient": other_patient,
        "encounter": signed_encounter(
            patient=other_patient, clinician=case["clinician"], site=case["site"]
        ),
    }
    theirs = sent_letter(other_case)
    sign_in(client, case["patient"].user, second_factor=False)

    listed = client.get("/api/v1/me/letters").json()
    read = client.get(f"/api/v1/me/letters/{mine.pk}")
    pdf = client.get(f"/api/v1/me/letters/{mine.pk}/pdf")
    refused = [
        client.get(f"/api/v1/me/letters/{letter.pk}{suffix}").status_code
        for letter in (not_copied, draft, theirs)
        for suffix in ("", "/pdf")
    ]
    clinicians = client.get(f"/api/v1/letters/{mine.pk}")

    assert [row["id"] for row in listed] == [mine.pk]
    assert listed[0]["author"] == "Dr Ann Author"
    assert read.status_code == 200
    assert read.json()["html"] == mine.html
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert "no-store" in pdf["Cache-Control"]
    assert pdf.content == bytes(Letter.objects.get(pk=mine.pk).pdf)
    assert refused == [404] * 6
    assert clinicians.status_code == 404
    assert _api_entries(action="read", outcome="refused") >= 4
    assert _api_entries(action="export", outcome="refused") == 3


def test_staff_have_no_letters_of_their_own(client, case):
    letter = sent_letter(case)
    sign_in(client, case["clinician"])

    assert client.get("/api/v1/me/letters").status_code == 404
    assert client.get(f"/api/v1/me/letters/{letter.pk}").status_code == 404


# Who


def _calls(case, letter):
    return [
        ("get", _url(case), None),
        ("post", _url(case), {}),
        ("get", f"/api/v1/letters/{letter.pk}", None),
        ("put", f"/api/v1/letters/{letter.pk}", _edit(letter)),
        (
            "post",
            f"/api/v1/letters/{letter.pk}/send",
            {"updated_at": letter.updated_at.isoformat()},
        ),
        ("get", f"/api/v1/letters/{letter.pk}/pdf", None),
    ]


def _statuses(client, case, letter):
    return [
        getattr(client, method)(url, body, content_type=JSON).status_code
        for method, url, body in _calls(case, letter)
    ]


def test_anonymous_calls_answer_401(client, case):
    letter = save(case, start(case))
    before = _rows()

    assert set(_statuses(client, case, letter)) == {401}
    assert {
        client.get(url).status_code
        for url in ("/api/v1/me/letters", f"/api/v1/me/letters/{letter.pk}")
    } == {401}
    assert _rows() == before


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.ADMIN])
def test_reception_and_administrators_are_refused_and_audited(client, case, role):
    letter = save(case, start(case))
    user = case["reception"] if role == Role.RECEPTION else case["admin"]
    sign_in(client, user)
    before = _rows()

    statuses = _statuses(client, case, letter)

    # By the encounter's or the letter's id: not even its existence is told.
    assert statuses == [404] * 6
    assert _rows() == before
    assert AuditEntry.objects.filter(channel="api", outcome="refused", actor=user).count() >= 6


def test_the_patient_gets_404_for_the_clinicians_letter_calls(client, case):
    letter = save(case, start(case))
    sign_in(client, case["patient"].user, second_factor=False)
    before = _rows()

    assert _statuses(client, case, letter) == [404] * 6
    assert _rows() == before


@pytest.mark.parametrize("unknown", ["999999", str(2**70)])
def test_unknown_letters_answer_404_and_are_audited(client, case, unknown):
    sign_in(client, case["clinician"])

    responses = [
        client.get(f"/api/v1/letters/{unknown}"),
        client.get(f"/api/v1/letters/{unknown}/pdf"),
        client.post(f"/api/v1/encounters/{unknown}/letters", {}, content_type=JSON),
    ]

    assert [r.status_code for r in responses] == [404] * 3
    assert AuditEntry.objects.filter(channel="api", outcome="refused").count() >= 3


def test_the_openapi_document_lists_the_letter_paths(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    expected = {
        "/api/v1/encounters/{encounter_id}/letters": {"get", "post"},
        "/api/v1/letters/{letter_id}": {"get", "put"},
        "/api/v1/letters/{letter_id}/send": {"post"},
        "/api/v1/letters/{letter_id}/pdf": {"get"},
        "/api/v1/me/letters": {"get"},
        "/api/v1/me/letters/{letter_id}": {"get"},
        "/api/v1/me/letters/{letter_id}/pdf": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    pdf = paths["/api/v1/letters/{letter_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]
