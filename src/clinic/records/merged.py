"""Writes to a merged duplicate record are refused (docs/clinical-record.md, "Merging").

A merge (records/merge.py) moves everything the duplicate held to the record kept and marks the
duplicate ``merged_into`` it; the duplicate stays only for the audit trail. The one rule here:
a write of patient data aimed at a merged record is refused (409), with a message naming the
record kept ("make changes there"), and nothing is written. Reads stay as they are.

Each service calls ``refuse_if_merged`` on the patient it found for the write, so the writer
hears about the merge before anything else, and again ``lock_unmerged`` inside the write's
transaction: the patient's row is locked, then read afresh, so a merge committed between the
first check and the write is seen, and one still running waits for the write (or the write for
it). The refusal is the service's own exception (HistoryRefused, EncounterRefused...; status
409), so the service audits it as it audits its other refusals and its pages and API handlers
show it as they show the others; services with no refusal of their own raise RecordMerged.

A row written by its own id (a medicine, an encounter, an alert) moves with the merge, so a
write that finds it after the merge goes to the record kept, as it should; only a write that
found it before the merge and writes after it meets the refusal, under the lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Model
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.merge import format_day
from clinic.records.models import Patient
from clinic.scheduling.availability import clinic_tz

MERGED = "This record was merged into record {number} on {day}; make changes there."
_MERGED_LINKED = (
    'This record was merged into record <a href="{url}">{number}</a> on {day}; make changes there.'
)
STATUS = 409  # a conflict with the record's state: the same request is fine on the kept record

# The control test of the race turns the row lock off to show the race is real without it.
_locks_enabled = True


class MergedMessage(str):
    """The refusal's text (MERGED), which also knows the record kept: ``merged_into`` is its
    id, for the API's body, and a template shows it with a link to that record (Django renders
    an object's ``__html__``). Audit entries and JSON get the plain text."""

    number: str
    day: str
    merged_into: int

    def __new__(cls, *, number: str, day: str, merged_into: int) -> MergedMessage:
        message = super().__new__(cls, MERGED.format(number=number, day=day))
        message.number, message.day, message.merged_into = number, day, merged_into
        return message

    def __getnewargs_ex__(self) -> tuple[tuple[()], dict[str, Any]]:
        # Copies and pickles are built as this one was (str's own would pass the text).
        return (), {"number": self.number, "day": self.day, "merged_into": self.merged_into}

    def __html__(self) -> SafeString:
        url = reverse("records:patient-detail", args=[self.merged_into])
        return format_html(_MERGED_LINKED, url=url, number=self.number, day=self.day)

    def __str__(self) -> str:
        # As SafeString does: str() keeps the object, so a form's error list (which calls
        # str() on each message) still renders the link.
        return self


class RecordMerged(ValueError):  # noqa: N818 - reads as the event
    """The refusal of services that have none of their own (next of kin, demographics), with
    the services' pattern: ``message``, ``field`` (none), ``status`` (409)."""

    def __init__(self, message: str, *, field: str = "", status: int = STATUS) -> None:
        self.message = message
        self.field = field
        self.status = status
        super().__init__(message)


Refusal = Callable[..., Exception]


def merged_message(patient: Patient) -> MergedMessage | None:
    """None for a record in use; for a merged one, the message naming the record kept (one
    query, for its hospital number)."""
    if patient.merged_into_id is None or patient.merged_at is None:
        return None
    kept = Patient.objects.only("hospital_number").get(pk=patient.merged_into_id)
    day = format_day(patient.merged_at.astimezone(clinic_tz()).date())
    return MergedMessage(number=kept.hospital_number, day=day, merged_into=kept.pk)


def refuse_if_merged(patient: Patient, refused: Refusal = RecordMerged) -> None:
    """Raise ``refused(message, status=409)`` when the patient's record was merged into
    another (as the row read says: inside the write, call lock_unmerged instead)."""
    message = merged_message(patient)
    if message is not None:
        raise refused(message, status=STATUS)


def lock_unmerged(patient_id: int, refused: Refusal = RecordMerged) -> Patient:
    """Inside the write's transaction, before it locks or writes any of the patient's rows:
    the patient's row, locked and read afresh, or ``refused`` when it was merged meanwhile.

    FOR NO KEY UPDATE conflicts with the merge's FOR UPDATE, so a write and a merge of the
    record queue; it does not block other writers' foreign keys to the patient (bookings).
    Patient first, then the rows, as the merge takes them: no deadlock between the two."""
    rows = Patient.objects.select_for_update(no_key=True) if _locks_enabled else Patient.objects
    locked = rows.get(pk=patient_id)
    refuse_if_merged(locked, refused)
    return locked


@contextmanager
def refusal_audited(
    context: AuditContext,
    action: AuditAction,
    obj: Model | None,
    patient: Patient,
    *,
    object_type: str,
) -> Iterator[None]:
    """For services without a refusal of their own: audit a RecordMerged raised in the block,
    then let it go on. Wrap the block around the transaction, so the entry outlives the
    rollback."""
    try:
        yield
    except RecordMerged as refusal:
        detail = f"{object_type.replace('_', ' ')} {action.value} refused: {refusal.message}"
        audit_object(context, action, obj, patient, detail, object_type=object_type, allowed=False)
        raise


def merged_into(error: Any) -> int | None:
    """The id of the record kept, when ``error`` is a refusal because of a merge."""
    message = getattr(error, "message", None)
    return message.merged_into if isinstance(message, MergedMessage) else None
