"""Two administrators merging A into B and B into A at the same moment (PostgreSQL): with the
ordered row locks and the checks after them, exactly one merge succeeds and the other is
refused as already merged. The control test takes the locks away and shows that both then
pass the checks, so the first test means something."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from clinic.accounts.models import Role
from clinic.audit.services import AuditContext
from clinic.records import merge
from clinic.records.models import Patient
from tests import factories

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the race tests need PostgreSQL"),
]


@pytest.fixture
def race(transactional_db, monkeypatch):
    """Two records, two administrators, a pause after the locks, and a note of what each
    merge's checks saw."""
    monkeypatch.setattr(merge, "_pause_after_lock_seconds", 0.5)
    seen: list[int] = []
    real = merge.merge_problems

    def noting(keep, duplicate):
        found = list(real(keep, duplicate))
        seen.append(len(found))
        return iter(found)

    monkeypatch.setattr(merge, "merge_problems", noting)
    a, b = factories.patient(), factories.patient()
    admins = []
    for _ in range(2):
        admin = factories.user(role=Role.ADMIN)
        admin.is_verified = lambda: True
        admins.append(admin)
    return a, b, admins, seen


def _both_at_once(a, b, admins) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(admin, keep, duplicate) -> None:
        barrier.wait()
        try:
            merge.merge_patients(
                AuditContext(actor=admin), keep_id=keep.pk, duplicate_id=duplicate.pk, reason="Two"
            )
            outcome = "merged"
        except merge.MergeRefused as refusal:
            outcome = refusal.message
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [
        threading.Thread(target=run, args=(admins[0], b, a)),
        threading.Thread(target=run, args=(admins[1], a, b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_merging_a_into_b_and_b_into_a_at_once_only_one_succeeds(race):
    a, b, admins, seen = race

    outcomes = _both_at_once(a, b, admins)

    assert outcomes.count("merged") == 1
    assert any("was already merged" in outcome for outcome in outcomes)
    assert sorted(seen) == [0, 1]  # the second saw the first's merge after its locks
    merged = Patient.objects.filter(merged_into__isnull=False)
    assert merged.count() == 1


def test_control_without_the_locks_both_pass_the_checks(race, monkeypatch):
    a, b, admins, seen = race
    monkeypatch.setattr(merge, "_locks_enabled", False)

    _both_at_once(a, b, admins)

    # Both read two unmerged records: what the locks prevent. (The database then breaks the
    # resulting deadlock, or both merges commit and the records point at each other.)
    assert seen == [0, 0]
