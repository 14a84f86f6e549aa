"""A database lock error in a clinical write (a deadlock PostgreSQL broke, a lock wait that ran
out) is someone else changing the record at that moment: the page and the API answer 409 with
"Someone else is changing this record; try again in a moment.", nothing is written, and the
refused write is audited; never a server error. The error is raised inside each write's
transaction by patching a step the write takes under its locks (the real deadlock is in
test_record_locks_race.py, on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import OperationalError
from django.utils.html import escape

from clinic.audit.models import AuditEntry
from clinic.records import classification, drug_history, family, history, letters
from clinic.records.history import HistoryDetails, HistoryRefused
from clinic.records.locks import BUSY
from clinic.records.models import (
    ClassificationReview,
    Diagnosis,
    DrugExposure,
    Examination,
    FamilyMember,
    History,
    Letter,
    RegionFinding,
)
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_examination import NECK, form_data, make_exam, save
from tests.clinic.records.test_letters import record_case
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

JSON = "application/json"
DEADLOCK = "deadlock detected\nDETAIL:  Process 1 waits for ShareLock on transaction 2."
LOCK_TIMEOUT = "canceling statement due to lock timeout"
REFRESH_ONE = "clinic.records.classification.refresh_review"
REFRESH_ALL = "clinic.records.classification.refresh_reviews_for_patient"


@pytest.fixture
def ward(db, staff, patient_user):
    """One patient: Dr Ann's draft with a history and examination (a pending classification);
    Dr Ann Author's signed encounter with a draft letter and a diagnosis; a relative and a
    medicine."""
    exam = make_exam(staff, patient_user)
    save(exam, [NECK])
    case = record_case(patient_user=patient_user, staff=staff)
    author = case["clinician"]
    letter, _created = letters.letter_start(
        context=context_of(author), encounter_id=case["encounter"].pk
    )
    Letter.objects.filter(pk=letter.pk).update(plan="Review in six months.")
    relative = family.relative_add(
        context=context_of(author),
        patient_id=case["patient"].pk,
        details=family.RelativeDetails(relationship="sister", condition="Migraine"),
    )
    drug = drug_history.drug_add(
        context=context_of(author),
        patient_id=case["patient"].pk,
        details=drug_history.DrugDetails(drug="Levodopa", started_on=date(2021, 1, 1)),
    )
    return {
        "patient": case["patient"],
        "draft_clinician": exam["clinician"],
        "draft": exam["encounter"],
        "author": author,
        "letter": Letter.objects.get(pk=letter.pk),
        "diagnosis": Diagnosis.objects.get(),
        "relative": relative,
        "drug": drug,
    }


def _raising(message: str) -> Callable[..., Any]:
    def locked_out(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError(message)

    return locked_out


def _iso(value: Any) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class Write:
    """One clinical write, through its page and its API endpoint: who writes, the step made
    to fail with a lock error, and the requests as (method, url, data)."""

    name: str
    user: str
    step: str
    page: Callable[[dict], tuple[str, str, dict]]
    api: Callable[[dict], tuple[str, str, dict | None]]


def _history_page(w: dict) -> tuple[str, str, dict]:
    saved = History.objects.get(encounter=w["draft"])
    data = {"age_at_onset_years": "41", "updated_at": _iso(saved.updated_at)}
    return "post", f"/records/encounters/{w['draft'].pk}/history/", data


def _history_api(w: dict) -> tuple[str, str, dict]:
    saved = History.objects.get(encounter=w["draft"])
    body = {"age_at_onset_years": 41, "updated_at": _iso(saved.updated_at)}
    return "put", f"/api/v1/encounters/{w['draft'].pk}/history", body


def _examination_page(w: dict) -> tuple[str, str, dict]:
    version = _iso(Examination.objects.get(encounter=w["draft"]).updated_at)
    return "post", f"/records/encounters/{w['draft'].pk}/examination/", form_data(version=version)


def _examination_api(w: dict) -> tuple[str, str, dict]:
    version = _iso(Examination.objects.get(encounter=w["draft"]).updated_at)
    body = {"sites": [{"region": "trunk"}], "updated_at": version}
    return "put", f"/api/v1/encounters/{w['draft'].pk}/examination", body


def _review(w: dict) -> int:
    review = classification.current_review(w["draft"].pk)
    assert review is not None
    return review.pk


RELATIVE_FORM = {"relationship": "mother", "condition": "Cervical dystonia", "has_dystonia": "on"}
RELATIVE_BODY = {"relationship": "mother", "condition": "Cervical dystonia", "has_dystonia": True}
DRUG_FORM = {"drug": "Haloperidol 5 mg", "dopamine_receptor_blocker": "auto"}
STATUS = {"clinical_status": "remission", "verification_status": "confirmed"}


def _letter_form(w: dict) -> dict:
    letter = w["letter"]
    return {"copy_to_patient": "on", "plan": "Mine", "updated_at": _iso(letter.updated_at)}


def _letter_body(w: dict) -> dict:
    letter = w["letter"]
    return {
        "to_gp": False,
        "to_referrer": False,
        "copy_to_patient": True,
        "plan": "Mine",
        "updated_at": _iso(letter.updated_at),
    }


WRITES = [
    Write("history", "draft_clinician", REFRESH_ONE, _history_page, _history_api),
    Write("examination", "draft_clinician", REFRESH_ONE, _examination_page, _examination_api),
    Write(
        "classification confirm",
        "draft_clinician",
        "clinic.records.classification._check_current",
        lambda w: (
            "post",
            f"/records/classification-reviews/{_review(w)}/decide/",
            {"decision": "confirm"},
        ),
        lambda w: ("post", f"/api/v1/classification-reviews/{_review(w)}/confirm", None),
    ),
    Write(
        "relative add",
        "author",
        REFRESH_ALL,
        lambda w: ("post", f"/records/patients/{w['patient'].pk}/relatives/new/", RELATIVE_FORM),
        lambda w: ("post", f"/api/v1/patients/{w['patient'].pk}/relatives", RELATIVE_BODY),
    ),
    Write(
        "relative remove",
        "author",
        REFRESH_ALL,
        lambda w: ("post", f"/records/relatives/{w['relative'].pk}/remove/", {}),
        lambda w: ("delete", f"/api/v1/relatives/{w['relative'].pk}", None),
    ),
    Write(
        "drug add",
        "author",
        REFRESH_ALL,
        lambda w: ("post", f"/records/patients/{w['patient'].pk}/drugs/new/", DRUG_FORM),
        lambda w: ("post", f"/api/v1/patients/{w['patient'].pk}/drugs", {"drug": "Haloperidol"}),
    ),
    Write(
        "drug remove",
        "author",
        REFRESH_ALL,
        lambda w: ("post", f"/records/drugs/{w['drug'].pk}/remove/", {}),
        lambda w: ("delete", f"/api/v1/drugs/{w['drug'].pk}", None),
    ),
    Write(
        "diagnosis status",
        "author",
        "clinic.records.diagnoses.check_resolved_on",
        lambda w: ("post", f"/records/diagnoses/{w['diagnosis'].pk}/", STATUS),
        lambda w: ("post", f"/api/v1/diagnoses/{w['diagnosis'].pk}/status", STATUS),
    ),
    Write(
        "letter save",
        "author",
        "clinic.records.letters.check_addressing",
        lambda w: ("post", f"/records/letters/{w['letter'].pk}/", _letter_form(w)),
        lambda w: ("put", f"/api/v1/letters/{w['letter'].pk}", _letter_body(w)),
    ),
    Write(
        "letter send",
        "author",
        "clinic.records.letters.check_addressing",
        lambda w: (
            "post",
            f"/records/letters/{w['letter'].pk}/send/",
            {"updated_at": _iso(w["letter"].updated_at)},
        ),
        lambda w: (
            "post",
            f"/api/v1/letters/{w['letter'].pk}/send",
            {"updated_at": _iso(w["letter"].updated_at)},
        ),
    ),
]


def _written() -> tuple:
    """Everything these writes change, as it stands."""
    return (
        list(History.objects.values()),
        list(Examination.objects.values()),
        list(RegionFinding.objects.values()),
        list(ClassificationReview.objects.values()),
        list(FamilyMember.objects.values()),
        list(DrugExposure.objects.values()),
        list(Diagnosis.objects.values()),
        list(Letter.objects.values("pk", "status", "plan", "updated_at", "sent_at")),
    )


def _last_audit_pk() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _busy_refusals(after: int) -> int:
    return AuditEntry.objects.filter(
        pk__gt=after, outcome="refused", detail__endswith=f"refused: {BUSY}"
    ).count()


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.name)
@pytest.mark.parametrize("lock", [DEADLOCK, LOCK_TIMEOUT], ids=["deadlock", "lock-timeout"])
def test_a_lock_error_on_the_page_is_409_with_the_message_and_writes_nothing(
    client, ward, monkeypatch, write, lock
):
    sign_in(client, ward[write.user])
    method, url, data = write.page(ward)
    before, audited_before = _written(), _last_audit_pk()
    monkeypatch.setattr(write.step, _raising(lock))

    response = getattr(client, method)(url, data)

    assert response.status_code == 409, response.content[:300]
    assert escape(BUSY) in response.content.decode()
    assert _written() == before
    assert _busy_refusals(audited_before) == 1


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.name)
def test_a_lock_error_on_the_api_is_409_with_the_message_and_writes_nothing(
    client, ward, monkeypatch, write
):
    sign_in(client, ward[write.user])
    method, url, body = write.api(ward)
    before, audited_before = _written(), _last_audit_pk()
    monkeypatch.setattr(write.step, _raising(DEADLOCK))

    response = getattr(client, method)(url, body, content_type=JSON)

    assert response.status_code == 409, response.content[:300]
    assert response.json()["detail"] == BUSY
    assert _written() == before
    assert _busy_refusals(audited_before) == 1


@pytest.mark.parametrize("write", WRITES, ids=lambda write: write.name)
def test_the_same_requests_write_without_the_lock_error(client, ward, write):
    """The control: each request above, left alone, writes (so a 409 there is the lock
    error's, not a bad request's)."""
    sign_in(client, ward[write.user])
    method, url, data = write.page(ward)
    before = _written()

    response = getattr(client, method)(url, data)

    assert response.status_code == 302, response.content[:300]
    assert _written() != before


def test_the_service_raises_its_own_refusal_so_the_page_keeps_the_entries(ward, monkeypatch):
    monkeypatch.setattr(REFRESH_ONE, _raising(DEADLOCK))
    saved = History.objects.get(encounter=ward["draft"])

    with pytest.raises(HistoryRefused) as refused:
        history.history_save(
            context=context_of(ward["draft_clinician"]),
            encounter_id=ward["draft"].pk,
            details=HistoryDetails(age_at_onset_years=41),
            expected_updated_at=saved.updated_at,
        )

    assert (refused.value.message, refused.value.status, refused.value.field) == (BUSY, 409, "")
    assert History.objects.get(pk=saved.pk).age_at_onset_years == 40


def test_other_database_errors_are_not_taken_for_busy(ward, monkeypatch):
    saved = History.objects.get(encounter=ward["draft"])
    monkeypatch.setattr(REFRESH_ONE, _raising("server closed the connection unexpectedly"))
    monkeypatch.setattr("clinic.records.letters.check_addressing", _raising("disk full"))

    with pytest.raises(OperationalError):
        history.history_save(
            context=context_of(ward["draft_clinician"]),
            encounter_id=ward["draft"].pk,
            details=HistoryDetails(age_at_onset_years=41),
            expected_updated_at=saved.updated_at,
        )
    with pytest.raises(OperationalError):
        letters.letter_send(context=context_of(ward["author"]), letter_id=ward["letter"].pk)
