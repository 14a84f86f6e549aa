"""Two clinicians saving the histories of two drafts of one patient at the same moment
(PostgreSQL): each save locks the patient's row first (as the merge and every clinical write
do, records/merged.py), then its own encounter, so the second save waits for the first and both
succeed. The control test takes the patient's lock away and adds back the patient-wide refresh
a history save used to make (locking every draft of the patient): the two saves then deadlock,
PostgreSQL breaks the deadlock, and the save it stops is refused as busy (409) rather than
failing.

A clinician's notes save and classification decision lock the encounter's row, not the
clinician's user row, which every audit entry references: another request of the same
clinician goes on meanwhile. The control takes the lock those writes used to take."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.services import AuditContext
from clinic.records import classification, encounters, history, merged
from clinic.records.history import HistoryDetails, HistoryRefused
from clinic.records.locks import BUSY
from clinic.records.models import (
    ClassificationReview,
    Encounter,
    EncounterKind,
    Examination,
    History,
    RegionFinding,
)
from tests import factories

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the race tests need PostgreSQL"),
]

# Long enough for both saves to hold their encounter's lock; PostgreSQL's deadlock_timeout is
# 1 s, well inside it.
BARRIER_SECONDS = 10


@pytest.fixture
def drafts(transactional_db):
    """One patient; two clinicians, each with a draft whose history and examination can be
    classified."""
    site = factories.site()
    patient = factories.patient(date_of_birth=date(1970, 1, 1))
    rows = []
    for _ in range(2):
        clinician = factories.user(role=Role.CLINICIAN)
        clinician.is_verified = lambda: True
        encounter = Encounter.objects.create(
            patient=patient,
            kind=EncounterKind.CONSULTATION,
            clinician=clinician,
            site=site,
            started_at=timezone.now() - timedelta(hours=1),
        )
        saved = History.objects.create(encounter=encounter, age_at_onset_years=30)
        examination = Examination.objects.create(encounter=encounter)
        RegionFinding.objects.create(examination=examination, region="neck")
        rows.append((clinician, encounter, saved))
    return patient, rows


def _other_waits_on_a_lock() -> bool:
    """Whether another session of the test database waits on a row lock (the other save),
    within BARRIER_SECONDS."""
    deadline = time.monotonic() + BARRIER_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def _both_at_once(rows, monkeypatch, pause: Any) -> list[str]:
    """Save both histories from two threads; ``pause(context, patient)`` runs inside each
    save, after its history is written (its locks held)."""

    def audit_then_pause(context, action, obj, patient, detail, **kwargs):
        real_audit(context, action, obj, patient, detail, **kwargs)
        if detail.startswith("history saved"):
            pause(context, patient)

    real_audit = history._audit
    monkeypatch.setattr(history, "_audit", audit_then_pause)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(clinician, encounter, saved, age) -> None:
        try:
            history.history_save(
                context=AuditContext(actor=clinician),
                encounter_id=encounter.pk,
                details=HistoryDetails(age_at_onset_years=age),
                expected_updated_at=saved.updated_at,
            )
            outcome = "saved"
        except HistoryRefused as refusal:
            outcome = refusal.message
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=run, args=(*row, 40 + index)) for index, row in enumerate(rows)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_clinicians_save_two_drafts_of_one_patient_at_once(drafts, monkeypatch):
    _patient, rows = drafts
    waited: list[bool] = []

    def first_holds_until_the_other_waits(context, patient) -> None:
        if not waited:  # the first save to get here: the other is on its way
            waited.append(_other_waits_on_a_lock())

    outcomes = _both_at_once(rows, monkeypatch, first_holds_until_the_other_waits)

    assert outcomes == ["saved", "saved"]
    # The second save queued behind the first (on the patient's row), rather than both
    # holding an encounter each.
    assert waited == [True]
    for index, (_clinician, encounter, _saved) in enumerate(rows):
        assert History.objects.get(encounter=encounter).age_at_onset_years == 40 + index
        review = ClassificationReview.objects.filter(encounter=encounter).get()
        assert review.findings["age_at_onset_years"] == 40 + index


def test_control_the_patient_wide_refresh_deadlocks_and_is_refused_as_busy(drafts, monkeypatch):
    _patient, rows = drafts
    monkeypatch.setattr(merged, "_locks_enabled", False)  # no patient lock: both go on
    barrier = threading.Barrier(2, timeout=BARRIER_SECONDS)

    def both_hold_then_lock_every_draft(context, patient) -> None:
        barrier.wait()  # each holds its own encounter
        classification.refresh_reviews_for_patient(patient, context=context)

    outcomes = _both_at_once(rows, monkeypatch, both_hold_then_lock_every_draft)

    assert sorted(outcomes) == sorted(["saved", BUSY])
    # The save refused wrote nothing; the other wrote its history.
    ages = sorted(History.objects.values_list("age_at_onset_years", flat=True))
    assert ages in ([30, 40], [30, 41])


# --- A clinician's write and their user row ------------------------------------------------


@pytest.fixture
def decision(transactional_db):
    """Dr Ann's draft, with notes, whose history and examination are classified (a pending
    review)."""
    clinician = factories.user(role=Role.CLINICIAN)
    clinician.is_verified = lambda: True
    encounter = Encounter.objects.create(
        patient=factories.patient(date_of_birth=date(1970, 1, 1)),
        kind=EncounterKind.CONSULTATION,
        clinician=clinician,
        site=factories.site(),
        started_at=timezone.now() - timedelta(hours=1),
        notes="Seen today.",
    )
    History.objects.create(encounter=encounter, age_at_onset_years=30)
    examination = Examination.objects.create(encounter=encounter)
    RegionFinding.objects.create(examination=examination, region="neck")
    review = classification.refresh_review(encounter)
    assert review is not None
    return clinician, encounter, review


def _user_row_free(user_id: int) -> bool:
    """Whether another transaction may reference the user right now, as each audit entry
    does (its foreign key's check takes FOR KEY SHARE on the user's row)."""
    table = connection.ops.quote_name(User._meta.db_table)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # The table's name comes from the model, not from input.
            sql = f"SELECT 1 FROM {table} WHERE id = %s FOR KEY SHARE NOWAIT"  # noqa: S608
            cursor.execute(sql, [user_id])
    except OperationalError:
        return False
    return True


def _user_row_free_during(write: Any, user_id: int) -> bool:
    """Run ``write(hold)`` in another thread; ``hold()``, called inside its transaction,
    keeps it there while this thread checks the user's row."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        release.wait(BARRIER_SECONDS)

    def run() -> None:
        try:
            write(hold)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert holding.wait(BARRIER_SECONDS)
        return _user_row_free(user_id)
    finally:
        release.set()
        thread.join()


def _held_after(module: Any, name: str, monkeypatch, hold: Any) -> None:
    """Make the module's audit function ``name`` hold the write after its first entry (the
    write's own, inside its transaction)."""
    real = getattr(module, name)
    held: list[bool] = []

    def audit_then_hold(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        if not held:
            held.append(True)
            hold()

    monkeypatch.setattr(module, name, audit_then_hold)


def _save_notes(monkeypatch, clinician, encounter, _review, hold) -> None:
    _held_after(encounters, "_audit", monkeypatch, hold)
    encounters.encounter_update_notes(
        context=AuditContext(actor=clinician),
        encounter_id=encounter.pk,
        notes="Changed.",
        expected_updated_at=encounter.updated_at,
    )


def _confirm(monkeypatch, clinician, _encounter, review, hold) -> None:
    _held_after(classification, "_audit_review", monkeypatch, hold)
    classification.classification_confirm(
        context=AuditContext(actor=clinician), review_id=review.pk
    )


# name: (the write, whether it was written).
CLINICIANS_WRITES = {
    "notes": (_save_notes, lambda e, _r: Encounter.objects.get(pk=e.pk).notes == "Changed."),
    "confirm": (
        _confirm,
        lambda _e, r: ClassificationReview.objects.get(pk=r.pk).decision == "confirmed",
    ),
}


@pytest.mark.parametrize("name", CLINICIANS_WRITES)
def test_a_clinicians_write_leaves_their_user_row_free(decision, monkeypatch, name):
    clinician, encounter, review = decision
    write, written = CLINICIANS_WRITES[name]

    free = _user_row_free_during(
        lambda hold: write(monkeypatch, clinician, encounter, review, hold), clinician.pk
    )

    assert free
    assert written(encounter, review)


def test_control_the_lock_these_writes_used_to_take_holds_the_user_row(decision):
    clinician, encounter, _review = decision

    def old_lock(hold) -> None:
        with transaction.atomic():
            Encounter.objects.select_for_update().select_related("clinician").get(pk=encounter.pk)
            hold()

    assert not _user_row_free_during(old_lock, clinician.pk)
