"""Two clinicians saving the histories of two drafts of one patient at the same moment
(PostgreSQL): each save locks its own encounter and refreshes that encounter's classification
only, so both succeed. The control test adds back the patient-wide refresh a history save used
to make (locking every draft of the patient): the two saves then deadlock, PostgreSQL breaks
the deadlock, and the save it stops is refused as busy (409) rather than failing."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.services import AuditContext
from clinic.records import classification, history
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


def _both_at_once(rows, monkeypatch, *, also: Any = None) -> list[str]:
    """Save both histories from two threads, each pausing after its encounter's lock until
    the other holds its own; ``also(context, encounter)`` then runs inside the save."""
    barrier = threading.Barrier(2, timeout=BARRIER_SECONDS)
    real_audit = history._audit

    def audit_then_wait(context, action, obj, patient, detail, **kwargs):
        real_audit(context, action, obj, patient, detail, **kwargs)
        if detail.startswith("history saved"):
            barrier.wait()
            if also is not None:
                also(context, patient)

    monkeypatch.setattr(history, "_audit", audit_then_wait)
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

    outcomes = _both_at_once(rows, monkeypatch)

    assert outcomes == ["saved", "saved"]
    for index, (_clinician, encounter, _saved) in enumerate(rows):
        assert History.objects.get(encounter=encounter).age_at_onset_years == 40 + index
        review = ClassificationReview.objects.filter(encounter=encounter).get()
        assert review.findings["age_at_onset_years"] == 40 + index


def test_control_the_patient_wide_refresh_deadlocks_and_is_refused_as_busy(drafts, monkeypatch):
    _patient, rows = drafts

    def lock_every_draft(context, patient) -> None:
        classification.refresh_reviews_for_patient(patient, context=context)

    outcomes = _both_at_once(rows, monkeypatch, also=lock_every_draft)

    assert sorted(outcomes) == sorted(["saved", BUSY])
    # The save refused wrote nothing; the other wrote its history.
    ages = sorted(History.objects.values_list("age_at_onset_years", flat=True))
    assert ages in ([30, 40], [30, 41])
