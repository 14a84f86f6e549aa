"""The clinical writes by an encounter's, a letter's or a review's id (a history, an examination,
a classification decision, a letter started, saved or sent) and a merge of the record: each write
locks the patient's row first, as the merge does (records/merged.py). A write that found its row
before a merge and writes after it is refused (the page shows "This record was merged into
record ...", with a link; the API answers 409 naming the kept record), nothing is written and
the refusal is audited; found after the merge, the row has moved and the write goes to the record
kept. On PostgreSQL, a write during a merge waits for it, then is refused; the control shows the
old order (the letter's row, then the patient's) deadlocking with the merge."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import DatabaseError, connection

from clinic.accounts.models import Role
from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import classification, examination, history, letters, merge, merged
from clinic.records.examination import SiteFinding
from clinic.records.history import HistoryDetails
from clinic.records.letters import Addressing
from clinic.records.locks import BUSY
from clinic.records.models import (
    ClassificationReview,
    Encounter,
    Examination,
    History,
    Letter,
    LetterStatus,
    Patient,
    RegionFinding,
)
from tests import factories
from tests.clinic.records.test_diagnoses import encounter_for
from tests.clinic.records.test_encounters import context_of
from tests.clinic.records.test_merged_record_writes import (
    _assert_refused_api,
    _assert_refused_page,
    _last_audit_pk,
    _merge,
    _message,
    _refusal_audited,
    _send,
)
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

BORN = date(1970, 1, 1)
PLAN = "Review in six months."
# The services whose first check the race hooks.
SERVICES = (classification, examination, history, letters)


def _people(site_slug: str) -> dict[str, Any]:
    clinician = factories.user(role=Role.CLINICIAN, full_name="Dr Ann")
    clinician.is_verified = lambda: True
    details = {"date_of_birth": BORN, "address": "3 Home Lane, London"}
    return {
        "site": factories.site(slug=site_slug),
        "clinician": clinician,
        "keep": factories.patient(**details),
        "duplicate": factories.patient(**details),
    }


def _rows(unit) -> dict[str, Any]:
    """On the duplicate, before the merge: an empty draft; a draft whose history and
    examination are classified (a pending review); a signed encounter with Dr Ann's draft
    letter, and another signed encounter with none."""
    duplicate, clinician, site = unit["duplicate"], unit["clinician"], unit["site"]
    classified = encounter_for(duplicate, clinician, site=site)
    History.objects.create(encounter=classified, age_at_onset_years=40)
    exam = Examination.objects.create(encounter=classified)
    RegionFinding.objects.create(examination=exam, region="neck")
    review = classification.refresh_review(classified)
    assert review is not None
    signed = encounter_for(duplicate, clinician, site=site, signed=True)
    letter = Letter.objects.create(
        encounter=signed,
        patient=duplicate,
        author=clinician,
        to_gp=False,
        to_referrer=False,
        copy_to_patient=True,
        plan=PLAN,
    )
    return {
        "draft": encounter_for(duplicate, clinician, site=site),
        "review": review,
        "signed": encounter_for(duplicate, clinician, site=site, signed=True),
        "letter": letter,
    }


@pytest.fixture
def unit(db, staff):
    """Two records of one person, Dr Ann (a clinician) and an administrator to merge them."""
    return {**_people("merged-clinical-site"), "admin": staff[Role.ADMIN]}


def _content() -> list[list[dict[str, Any]]]:
    """What these writes could change, without the patient each row points at (a merge moves
    the rows)."""
    models = (Encounter, History, Examination, RegionFinding, ClassificationReview, Letter)
    return [
        [{k: v for k, v in row.items() if k != "patient_id"} for row in model.objects.values()]
        for model in models
    ]


def _version(row: Encounter | Letter) -> str:
    return type(row).objects.get(pk=row.pk).updated_at.isoformat()


LETTER_FORM = {"copy_to_patient": "on", "plan": "Changed.", "comments": ""}
LETTER_BODY = {"to_gp": False, "to_referrer": False, "copy_to_patient": True, "plan": "Changed."}
OVERRIDE = {"distribution": "segmental", "reason": "The jaw is involved too."}

# name: (page (URL, form), API (method, URL, body)); built from _rows.
WRITES: dict[str, tuple[Callable[[dict], tuple], Callable[[dict], tuple]]] = {
    "history save": (
        lambda r: (
            f"/records/encounters/{r['draft'].pk}/history/",
            {"age_at_onset_years": "40", "updated_at": ""},
        ),
        lambda r: (
            "put",
            f"/api/v1/encounters/{r['draft'].pk}/history",
            {"age_at_onset_years": 40, "updated_at": None},
        ),
    ),
    "examination save": (
        lambda r: (
            f"/records/encounters/{r['draft'].pk}/examination/",
            {"version": "new", "neck_involved": "on"},
        ),
        lambda r: (
            "put",
            f"/api/v1/encounters/{r['draft'].pk}/examination",
            {"sites": [{"region": "neck"}], "updated_at": None},
        ),
    ),
    "classification confirm": (
        lambda r: (
            f"/records/classification-reviews/{r['review'].pk}/decide/",
            {"decision": "confirm"},
        ),
        lambda r: ("post", f"/api/v1/classification-reviews/{r['review'].pk}/confirm", None),
    ),
    "classification override": (
        lambda r: (
            f"/records/classification-reviews/{r['review'].pk}/decide/",
            {"decision": "override", **OVERRIDE},
        ),
        lambda r: ("post", f"/api/v1/classification-reviews/{r['review'].pk}/override", OVERRIDE),
    ),
    "letter start": (
        lambda r: (f"/records/encounters/{r['signed'].pk}/letters/new/", {"copy_to_patient": "on"}),
        lambda r: ("post", f"/api/v1/encounters/{r['signed'].pk}/letters", {}),
    ),
    "letter save": (
        lambda r: (
            f"/records/letters/{r['letter'].pk}/",
            LETTER_FORM | {"updated_at": _version(r["letter"])},
        ),
        lambda r: (
            "put",
            f"/api/v1/letters/{r['letter'].pk}",
            LETTER_BODY | {"updated_at": _version(r["letter"])},
        ),
    ),
    "letter send": (
        lambda r: (
            f"/records/letters/{r['letter'].pk}/send/",
            {"updated_at": _version(r["letter"])},
        ),
        lambda r: (
            "post",
            f"/api/v1/letters/{r['letter'].pk}/send",
            {"updated_at": _version(r["letter"])},
        ),
    ),
}


@pytest.fixture
def merge_midway(unit, monkeypatch):
    """Arm: the next write merges the duplicate into the kept record just after its service
    checked the record (another administrator's merge committing at that moment), so only
    the re-check under the patient's lock can see the merge."""

    def arm() -> None:
        merged_already: list[bool] = []
        for module in SERVICES:
            real = module.refuse_if_merged

            def checked_then_merged(patient, *args, _real=real, **kwargs) -> None:
                _real(patient, *args, **kwargs)
                if not merged_already:
                    merged_already.append(True)
                    _merge(unit)

            monkeypatch.setattr(module, "refuse_if_merged", checked_then_merged)

    return arm


@pytest.mark.parametrize("name", WRITES)
def test_a_page_write_when_the_record_is_merged_meanwhile_is_refused(
    client, unit, merge_midway, name
):
    page, _api = WRITES[name]
    url, form = page(_rows(unit))
    sign_in(client, unit["clinician"])
    before, after = _content(), _last_audit_pk()
    merge_midway()

    response = client.post(url, form)

    assert Patient.objects.get(pk=unit["duplicate"].pk).merged_into_id == unit["keep"].pk
    _assert_refused_page(response, unit)
    assert _content() == before
    _refusal_audited(unit, after, AuditChannel.WEB)


@pytest.mark.parametrize("name", WRITES)
def test_an_api_write_when_the_record_is_merged_meanwhile_is_409(client, unit, merge_midway, name):
    _page, api = WRITES[name]
    method, url, body = api(_rows(unit))
    sign_in(client, unit["clinician"])
    before, after = _content(), _last_audit_pk()
    merge_midway()

    response = _send(client, method, url, body, api=True)

    _assert_refused_api(response, unit)
    assert _content() == before
    _refusal_audited(unit, after, AuditChannel.API)


@pytest.mark.parametrize("name", WRITES)
def test_found_after_the_merge_the_write_goes_to_the_kept_record(client, unit, name):
    page, _api = WRITES[name]
    url, form = page(_rows(unit))
    _merge(unit)
    sign_in(client, unit["clinician"])

    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()
    keep = unit["keep"]
    assert not Encounter.objects.filter(patient=unit["duplicate"]).exists()
    assert not Letter.objects.filter(patient=unit["duplicate"]).exists()
    assert Encounter.objects.filter(patient=keep).count() == 4
    if name == "letter send":
        assert Letter.objects.get(status=LetterStatus.SENT).patient_id == keep.pk


# --- The race on PostgreSQL ---------------------------------------------------------------


def _during_merge(people, write: Callable[[], object]) -> dict[str, str]:
    """A merge holding its locks (paused after them) and, meanwhile, ``write``: what each
    answered ("merged", "written", or the refusal or error)."""
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def merging() -> None:
        barrier.wait()
        try:
            _merge(people)
            outcome["merge"] = "merged"
        except DatabaseError as error:
            outcome["merge"] = str(error)
        finally:
            connection.close()

    def writing() -> None:
        barrier.wait()
        time.sleep(0.2)  # the merge has its locks by now
        try:
            write()
            outcome["write"] = "written"
        except (history.HistoryRefused, letters.LetterRefused, examination.EncounterRefused) as no:
            outcome["write"] = no.message
        finally:
            connection.close()

    threads = [threading.Thread(target=merging), threading.Thread(target=writing)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


@pytest.fixture
def racing(transactional_db, staff, monkeypatch):
    monkeypatch.setattr(merge, "_pause_after_lock_seconds", 0.5)
    people = {**_people("racing-site"), "admin": staff[Role.ADMIN]}
    return people, _rows(people)


def _context(people) -> AuditContext:
    return context_of(people["clinician"])


# name: the write, from (people, rows).
RACING: dict[str, Callable[[dict, dict], object]] = {
    "history save": lambda p, r: history.history_save(
        context=_context(p),
        encounter_id=r["draft"].pk,
        details=HistoryDetails(age_at_onset_years=40),
        expected_updated_at=None,
    ),
    "examination save": lambda p, r: examination.examination_save(
        context=_context(p),
        encounter_id=r["draft"].pk,
        sites=[SiteFinding("neck")],
        associated_features=[],
        expected_updated_at=None,
    ),
    "classification confirm": lambda p, r: classification.classification_confirm(
        context=_context(p), review_id=r["review"].pk
    ),
    "letter start": lambda p, r: letters.letter_start(
        context=_context(p),
        encounter_id=r["signed"].pk,
        addressing=Addressing(to_gp=False, to_referrer=False, copy_to_patient=True),
    ),
    "letter save": lambda p, r: letters.letter_update(
        context=_context(p),
        letter_id=r["letter"].pk,
        plan="Changed.",
        comments="",
        addressing=Addressing(to_gp=False, to_referrer=False, copy_to_patient=True),
        expected_updated_at=Letter.objects.get(pk=r["letter"].pk).updated_at,
    ),
    "letter send": lambda p, r: letters.letter_send(context=_context(p), letter_id=r["letter"].pk),
}

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the race needs PostgreSQL"
)


@pytest.mark.postgres
@on_postgres
@pytest.mark.parametrize("name", RACING)
def test_a_write_during_a_merge_waits_for_it_then_is_refused(racing, name):
    people, rows = racing
    before = _content()

    outcome = _during_merge(people, lambda: RACING[name](people, rows))

    assert outcome == {"merge": "merged", "write": _message(people)}
    assert _content() == before


@pytest.mark.postgres
@on_postgres
def test_control_the_letter_locked_before_the_patient_deadlocks_with_the_merge(racing, monkeypatch):
    # The old order: the letter's row first (no patient lock before it); its audit entry's
    # reference to the patient then waits for the merge, which waits for the letter's row.
    monkeypatch.setattr(merged, "_locks_enabled", False)
    people, rows = racing

    outcome = _during_merge(people, lambda: RACING["letter send"](people, rows))

    # PostgreSQL breaks the deadlock by stopping one of the two.
    assert outcome["write"] == BUSY or "deadlock" in outcome["merge"], outcome
