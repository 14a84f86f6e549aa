"""Merging a duplicate patient record into the record kept (docs/access.md, "Merging").

Administrators (after two-factor) merge; they otherwise see no patient data, so the comparison
shows only what tells whether two records are one person (identifiers and demographics) and
how many rows of each kind each record holds, never their content. Every comparison is an
audited read of both patients; a merge, and every refusal, is audited on both.

A merge is one transaction: both patient rows are locked in id order (so two administrators
merging A into B and B into A at once queue rather than deadlock) and every check runs after
the locks, so the second of them sees the first's merge and is refused. Every row that points
at the duplicate moves to the kept record, found generically from Patient's reverse relations;
the audit trail alone stays where it is (it is append-only). The duplicate is kept, marked
merged, for the audit trail; its hospital number stays with it (unique to that person, and
what the audit search finds its entries by).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Exists, ForeignObjectRel, Model, OuterRef
from django.utils import timezone

from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.records.access import AccessRefused, access_merge_patients, refusal_reveals
from clinic.records.models import Patient
from clinic.scheduling.availability import clinic_tz
from clinic.scheduling.models import Appointment, AppointmentStatus
from clinic.scheduling.services import is_lock_error

REASON_MAX_LENGTH = 200  # the audit entry's detail holds it with about 100 characters to spare
LOCK_TIMEOUT = "5s"

REASON_REQUIRED = "Give the reason for merging these records."
REASON_TOO_LONG = f"The reason can be at most {REASON_MAX_LENGTH} characters."
NUL_CHARACTER = "The text contains a character that cannot be stored (NUL). Remove it."
NUMBER_REQUIRED = "Enter a hospital number."
NO_SUCH_NUMBER = "No patient has hospital number {number}."
NO_SUCH_PATIENT = "No such patient record."
SAME_RECORD = "These are the same record: choose two different records."
ALREADY_MERGED = (
    "Record {number} was already merged into record {into} on {day}. Choose record {into} instead."
)
BOTH_SIGN_IN = (
    "Both records have an active patient sign-in ({keep_email} on record {keep_number}, "
    "{duplicate_email} on record {duplicate_number}). One person keeps one sign-in: close one "
    "of the two accounts first (make it inactive in Administration, Users)."
)
DIFFERENT_NHS_NUMBERS = (
    "The records have different NHS numbers ({keep} and {duplicate}): these are different "
    "people, so they cannot be merged."
)
BIRTH_DATES_DIFFER = (
    "The dates of birth differ ({keep} and {duplicate}). Tick the box to confirm you have "
    "checked that this is one person and one date is a mistake."
)
APPOINTMENTS_OVERLAP = (
    "Both records have an appointment booked at {when}: ask reception to cancel one first."
)
CANNOT_COMBINE = "Both records have {what} that cannot be combined: resolve that first."
NOT_SET_UP = "Merging is not set up for {what} yet, so nothing was changed."
BUSY = "These records are being changed by someone else right now. Try again in a moment."

# Every reverse relation to Patient, by "app.Model.field": moved to the kept record, or left
# where it is. A new foreign key to Patient must be added to one of the two (a test fails
# until it is, and a merge refuses meanwhile): check the new model's unique constraints.
MOVED = frozenset(
    {
        "records.Patient.merged_into",  # records merged into the duplicate earlier
        "records.NextOfKin.patient",
        "records.PatientAlert.patient",
        "records.Encounter.patient",
        "records.DrugExposure.patient",
        "records.FamilyMember.patient",
        "records.Diagnosis.patient",
        "records.Letter.patient",
        "records.Investigation.patient",
        "treatment.Medication.patient",
        "treatment.TherapyReferral.patient",
        "treatment.Procedure.patient",
        "treatment.DbsSystem.patient",
        "enquiries.Enquiry.patient",
        "scheduling.Appointment.patient",
        "scheduling.Message.patient",
        "scheduling.WaitlistEntry.patient",
        "scheduling.Recall.patient",
        "scheduling.OpenFollowUp.patient",
    }
)
KEPT_IN_PLACE = frozenset({"audit.AuditEntry.patient"})  # append-only: who read what, as it was

# Demographics copied from the duplicate where the kept record has none. A group is copied
# only when all of it is empty, so one record's address never gets the other's postcode. Not
# copied: names and date of birth (the kept record's), consents (its answers stand), the
# discharge date (an episode of the kept record's care).
FILLED_GROUPS: tuple[tuple[str, ...], ...] = (
    ("nhs_number",),
    ("email",),
    ("phone",),
    ("address", "postcode"),
    ("gp_name", "gp_practice", "gp_address", "gp_email"),
    ("referrer_name", "referrer_organisation", "referrer_address", "referrer_email"),
    ("date_of_death",),
)

# Test seams, off in production: a pause after the locks (to widen a race), and a switch that
# takes the locks away (the control test shows the race is then real).
_pause_after_lock_seconds = 0.0
_locks_enabled = True


class MergeRefused(ValueError):  # noqa: N818 - reads as the event
    """The merge cannot be done as asked: ``message`` says why, ``field`` names the input it is
    about (empty for the whole request), ``status`` is the HTTP answer for a page."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        self.message = message
        self.field = field
        self.status = status
        super().__init__(message)


# --- Relations ---------------------------------------------------------------------------


def relation_key(relation: ForeignObjectRel) -> str:
    """``"app.Model.field"`` of a reverse relation to Patient."""
    return f"{relation.related_model._meta.label}.{relation.field.name}"


def patient_relations() -> list[ForeignObjectRel]:
    """Every reverse relation to Patient, hidden ones (``related_name="+"``) included."""
    fields = Patient._meta.get_fields(include_hidden=True)
    return [f for f in fields if isinstance(f, ForeignObjectRel) and f.field.concrete]


# What the comparison calls the rows of a relation (else its model's plural name).
LABELS = {
    "records.Patient.merged_into": "Records merged into it earlier",
    "records.PatientAlert.patient": "Allergies and alerts",
    "records.DrugExposure.patient": "Drug history entries",
    "records.FamilyMember.patient": "Relatives in the family history",
    "scheduling.Message.patient": "Emails about appointments",
    "scheduling.WaitlistEntry.patient": "Waiting-list entries",
    "scheduling.OpenFollowUp.patient": "Patient-initiated follow-ups",
    "audit.AuditEntry.patient": "Audit entries (stay with their record)",
}


def relation_label(relation: ForeignObjectRel) -> str:
    key = relation_key(relation)
    if key in LABELS:
        return LABELS[key]
    plural = str(relation.related_model._meta.verbose_name_plural)
    return plural[:1].upper() + plural[1:]


def unique_field_sets(relation: ForeignObjectRel) -> list[tuple[str, ...]]:
    """The unique constraints of the related model that include its field to Patient (a
    conditional one counts too: refusing a merge that would be allowed is the safe side)."""
    model = relation.related_model
    name = relation.field.name
    sets: list[tuple[str, ...]] = [(name,)] if relation.field.unique else []
    sets += [tuple(group) for group in model._meta.unique_together if name in group]
    for constraint in model._meta.constraints:
        fields = tuple(getattr(constraint, "fields", ()) or ())
        if name in fields:
            sets.append(fields)
    return sets


def rows_of(relation: ForeignObjectRel, patient: Patient) -> Any:
    model: type[Model] = relation.related_model
    return model._base_manager.filter(**{relation.field.name: patient})


def _collides(relation: ForeignObjectRel, keep: Patient, duplicate: Patient) -> bool:
    """Would moving the duplicate's rows break one of the relation's unique constraints?"""
    for fields in unique_field_sets(relation):
        others = [f for f in fields if f != relation.field.name]
        if not others:
            if rows_of(relation, keep).exists() and rows_of(relation, duplicate).exists():
                return True
            continue
        kept = set(rows_of(relation, keep).values_list(*others))
        if any(values in kept for values in rows_of(relation, duplicate).values_list(*others)):
            return True
    return False


# --- Checks --------------------------------------------------------------------------------


def format_day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _overlapping_appointment(keep: Patient, duplicate: Patient) -> Appointment | None:
    """A booked appointment of the duplicate at the same time as one of the kept record's:
    PostgreSQL's exclusion constraint (scheduling migration 0002) would refuse the move."""
    booked = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    clash = booked.filter(patient=keep, start__lt=OuterRef("end"), end__gt=OuterRef("start"))
    return booked.filter(patient=duplicate).filter(Exists(clash)).order_by("start").first()


def _sign_in_problem(keep: Patient, duplicate: Patient) -> str:
    if keep.user is None or duplicate.user is None:
        return ""
    if not (keep.user.is_active and duplicate.user.is_active):
        return ""
    return BOTH_SIGN_IN.format(
        keep_email=keep.user.email,
        keep_number=keep.hospital_number,
        duplicate_email=duplicate.user.email,
        duplicate_number=duplicate.hospital_number,
    )


def merge_problems(keep: Patient, duplicate: Patient) -> Iterator[MergeRefused]:
    """What stops this merge, first things first (the birth-date confirmation aside)."""
    for record in (duplicate, keep):
        if record.merged_into_id is not None and record.merged_at is not None:
            into = Patient.objects.only("hospital_number").get(pk=record.merged_into_id)
            day = format_day(record.merged_at.astimezone(clinic_tz()).date())
            message = ALREADY_MERGED.format(
                number=record.hospital_number, into=into.hospital_number, day=day
            )
            yield MergeRefused(message, status=409)
    if keep.nhs_number and duplicate.nhs_number and keep.nhs_number != duplicate.nhs_number:
        numbers = {"keep": keep.nhs_number_display, "duplicate": duplicate.nhs_number_display}
        yield MergeRefused(DIFFERENT_NHS_NUMBERS.format(**numbers), status=409)
    sign_in = _sign_in_problem(keep, duplicate)
    if sign_in:
        yield MergeRefused(sign_in, status=409)
    clash = _overlapping_appointment(keep, duplicate)
    if clash is not None:
        local = clash.start.astimezone(clinic_tz())
        when = f"{format_day(local.date())}, {local:%H:%M}"
        yield MergeRefused(APPOINTMENTS_OVERLAP.format(when=when), status=409)
    for relation in patient_relations():
        key = relation_key(relation)
        if key not in MOVED | KEPT_IN_PLACE:
            yield MergeRefused(NOT_SET_UP.format(what=key), status=409)
        elif key in MOVED and _collides(relation, keep, duplicate):
            what = str(relation.related_model._meta.verbose_name)
            yield MergeRefused(CANNOT_COMBINE.format(what=f"a {what}"), status=409)


def _birth_dates_check(keep: Patient, duplicate: Patient, *, checked: bool) -> None:
    if keep.date_of_birth == duplicate.date_of_birth or checked:
        return
    dates = {
        "keep": format_day(keep.date_of_birth),
        "duplicate": format_day(duplicate.date_of_birth),
    }
    raise MergeRefused(BIRTH_DATES_DIFFER.format(**dates), field="birth_dates_checked")


def clean_reason(reason: str) -> str:
    """The administrator's reason: required, at most REASON_MAX_LENGTH, no NUL."""
    value = " ".join((reason or "").split())
    if "\x00" in (reason or ""):
        raise MergeRefused(NUL_CHARACTER, field="reason")
    if not value:
        raise MergeRefused(REASON_REQUIRED, field="reason")
    if len(value) > REASON_MAX_LENGTH:
        raise MergeRefused(REASON_TOO_LONG, field="reason")
    return value


# --- Access and audit --------------------------------------------------------------------


def _audit_each(
    context: AuditContext,
    patients: Iterable[Patient],
    detail: str,
    *,
    action: AuditAction,
    allowed: bool,
) -> None:
    """One entry per patient concerned (one without a patient when none is known)."""
    outcome = AuditOutcome.ALLOWED if allowed else AuditOutcome.REFUSED
    found: list[Patient | None] = [patient for patient in patients if patient is not None]
    if not found:
        found = [None]
    for patient in found:
        audit_record(
            context=context,
            action=action,
            outcome=outcome,
            object_type="patient_merge" if patient is None else "patient",
            object_id=patient.pk if patient is not None else "",
            patient=patient,
            detail=detail,
        )


def _targets(*ids: int) -> list[Patient]:
    return list(Patient.objects.filter(pk__in=ids).order_by("pk"))


def check_merge_access(context: AuditContext, *ids: int, action: AuditAction) -> None:
    """Administrators after two-factor; anyone else gets an audited AccessRefused (403 for
    staff, 404 for patients), recorded against the records they asked for."""
    if context.actor is not None and access_merge_patients(context.actor):
        return
    detail = "merge refused: administrators only"
    _audit_each(context, _targets(*ids), detail, action=action, allowed=False)
    raise AccessRefused(reveal=refusal_reveals(context.actor))


@contextmanager
def refusals_audited(context: AuditContext, ids: tuple[int, ...], what: str) -> Iterator[None]:
    """Audit a refusal raised in the block on the records concerned, then let it go on. Wrap
    the block around the transaction, so the entry is written after the rollback."""
    try:
        yield
    except MergeRefused as refusal:
        _audit_each(
            context,
            _targets(*ids),
            f"{what} refused: {refusal.message}",
            action=AuditAction.UPDATE if what == "merge" else AuditAction.READ,
            allowed=False,
        )
        raise


# --- The merge -----------------------------------------------------------------------------


def fillable_fields(keep: Patient, duplicate: Patient) -> list[str]:
    """The kept record's empty details the duplicate fills (FILLED_GROUPS)."""
    filled: list[str] = []
    for group in FILLED_GROUPS:
        kept_empty = all(getattr(keep, name) in (None, "") for name in group)
        other_has = any(getattr(duplicate, name) not in (None, "") for name in group)
        if kept_empty and other_has:
            filled.extend(group)
    return filled


def _lock(keep_id: int, duplicate_id: int) -> tuple[Patient, Patient]:
    """Both rows, locked one at a time in id order (every merge takes them in that order, so
    two merges of the same pair queue instead of deadlocking). Read after the lock: current."""
    if connection.vendor == "postgresql" and _locks_enabled:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [LOCK_TIMEOUT])
    rows = Patient.objects.select_for_update() if _locks_enabled else Patient.objects.all()
    found = {}
    for pk in sorted((keep_id, duplicate_id)):
        row = rows.filter(pk=pk).first()
        if row is None:
            raise MergeRefused(NO_SUCH_PATIENT, status=404)
        found[pk] = row
    return found[keep_id], found[duplicate_id]


def _move_sign_in(keep: Patient, duplicate: Patient) -> None:
    """The active sign-in ends on the kept record (checks allow at most one active); an
    inactive one stays with, or goes to, the merged duplicate. Freed first: it is unique."""
    accounts = [user for user in (keep.user, duplicate.user) if user is not None]
    active = [user for user in accounts if user.is_active]
    kept_user = active[0] if active else (accounts[0] if accounts else None)
    other = next((user for user in accounts if user != kept_user), None)
    if kept_user == keep.user:
        return
    Patient.objects.filter(pk__in=[keep.pk, duplicate.pk]).update(user=None)
    Patient.objects.filter(pk=keep.pk).update(user=kept_user)
    Patient.objects.filter(pk=duplicate.pk).update(user=other)
    keep.user, duplicate.user = kept_user, other


def _move_rows(keep: Patient, duplicate: Patient) -> int:
    """Every row of every MOVED relation now points at the kept record; returns how many."""
    moved = 0
    for relation in patient_relations():
        if relation_key(relation) in MOVED:
            moved += rows_of(relation, duplicate).update(**{relation.field.name: keep})
    return moved


def _fill(keep: Patient, duplicate: Patient) -> list[str]:
    filled = fillable_fields(keep, duplicate)
    if "nhs_number" in filled:  # unique: off the duplicate first, then onto the kept record
        number, duplicate.nhs_number = duplicate.nhs_number, None
        duplicate.save(update_fields=["nhs_number", "updated_at"])
        keep.nhs_number = number
    for name in filled:
        if name != "nhs_number":
            setattr(keep, name, getattr(duplicate, name))
    return filled


def merge_patients(
    context: AuditContext,
    *,
    keep_id: int,
    duplicate_id: int,
    reason: str,
    birth_dates_checked: bool = False,
) -> Patient:
    """Merge the duplicate record into the kept one and return the kept one. Administrators
    only. Raises AccessRefused, or MergeRefused with the reason (nothing changed); both are
    audited on both records. A different date of birth needs ``birth_dates_checked``."""
    check_merge_access(context, keep_id, duplicate_id, action=AuditAction.UPDATE)
    ids = (keep_id, duplicate_id)
    with refusals_audited(context, ids, "merge"):
        text = clean_reason(reason)
        if keep_id == duplicate_id:
            raise MergeRefused(SAME_RECORD)
        try:
            return _merge(context, keep_id, duplicate_id, text, birth_dates_checked)
        except OperationalError as error:
            if not is_lock_error(error):
                raise
            raise MergeRefused(BUSY, status=409) from None


def _merge(
    context: AuditContext, keep_id: int, duplicate_id: int, reason: str, checked: bool
) -> Patient:
    with transaction.atomic():
        keep, duplicate = _lock(keep_id, duplicate_id)
        if _pause_after_lock_seconds:
            time.sleep(_pause_after_lock_seconds)
        # After the locks: a merge committed meanwhile shows here (the concurrent-merge case).
        problem = next(merge_problems(keep, duplicate), None)
        if problem is not None:
            raise problem
        _birth_dates_check(keep, duplicate, checked=checked)
        _move_sign_in(keep, duplicate)
        moved = _move_rows(keep, duplicate)
        filled = _fill(keep, duplicate)
        keep.registered_by_patient = False  # compared with the other record: checked
        keep.save()
        duplicate.merged_into = keep
        duplicate.merged_at = timezone.now()
        duplicate.merged_by = context.actor
        duplicate.save(update_fields=["merged_into", "merged_at", "merged_by", "updated_at"])
        _audit_each(
            context,
            [duplicate],
            f"merged into record {keep.hospital_number}; {moved} rows moved; reason: {reason}",
            action=AuditAction.UPDATE,
            allowed=True,
        )
        _audit_each(
            context,
            [keep],
            f"record {duplicate.hospital_number} merged into this one; {moved} rows moved, "
            f"{len(filled)} empty details filled; reason: {reason}",
            action=AuditAction.UPDATE,
            allowed=True,
        )
        return keep
