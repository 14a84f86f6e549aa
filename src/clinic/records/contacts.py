"""A patient's next of kin (FHIR Patient.contact): reads and writes, each access-checked and
audited. Staff (reception and clinicians) keep them; patients read their own on /my/ and tell
reception about changes, so the writes refuse patients even on their own record.

Audit entries name the next of kin's id, never their name: administrators read the audit
trail and see no patient data (docs/access.md). A merged duplicate record's next of kin are
not written (merged.RecordMerged, 409, audited)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from django.db import transaction

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records import selectors
from clinic.records.access import (
    AccessRefused,
    DataCategory,
    access_staff_write,
    refusal_reveals,
)
from clinic.records.merged import lock_unmerged, refusal_audited, refuse_if_merged
from clinic.records.models import NextOfKin, Patient

# The most any one patient's page lists; real patients have one to three.
NEXT_OF_KIN_SHOWN = 20

_audit = partial(audit_object, object_type="next_of_kin")
_refusal_audited = partial(refusal_audited, object_type="next_of_kin")


@dataclass(frozen=True)
class NextOfKinDetails:
    """Validated details of a next of kin, as the form hands them over."""

    name: str
    relationship: str
    phone: str = ""
    email: str = ""
    is_emergency_contact: bool = False


def may_write(user: Any, patient: Patient) -> bool:
    """Reception and clinicians (after two-factor) write next of kin; patients do not."""
    return access_staff_write(
        user, patient_user_id=patient.user_id, category=DataCategory.DEMOGRAPHICS
    )


def _check_write(
    context: AuditContext, patient: Patient, action: AuditAction, kin: NextOfKin | None = None
) -> None:
    """Refused (audited, outside any transaction): 403 for staff, 404 for patients."""
    if may_write(context.actor, patient):
        return
    _audit(context, action, kin, patient, f"next of kin {action.value} refused", allowed=False)
    raise AccessRefused(reveal=context.actor is not None and refusal_reveals(context.actor))


def patient_for_next_of_kin(*, context: AuditContext, patient_id: int) -> Patient:
    """The patient whose next of kin are being added: refused unless the actor may write
    them, then read (audited) like any record. Raises AccessRefused (404 when there is no
    such patient)."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        _audit(
            context, AuditAction.READ, None, None, f"no such patient {patient_id}", allowed=False
        )
        raise AccessRefused(reveal=False)
    _check_write(context, patient, AuditAction.CREATE)
    return selectors.patient_for_user(context=context, patient_id=patient_id)


def next_of_kin_for_user(*, context: AuditContext, next_of_kin_id: int) -> NextOfKin:
    """One next of kin with their patient, for staff changing or removing them (audited).
    Raises AccessRefused (404 when there is no such next of kin)."""
    kin = NextOfKin.objects.select_related("patient").filter(pk=next_of_kin_id).first()
    if kin is None:
        _audit(context, AuditAction.READ, None, None, "no such next of kin", allowed=False)
        raise AccessRefused(reveal=False)
    _check_write(context, kin.patient, AuditAction.UPDATE, kin)
    _audit(context, AuditAction.READ, kin, kin.patient, "next of kin read")
    return kin


def next_of_kin_of_patient(*, patient: Patient) -> list[NextOfKin]:
    """The patient's next of kin, emergency contacts first (one query). Call after
    selectors.patient_for_user or patient_own_record, whose audited read covers the page."""
    return list(NextOfKin.objects.filter(patient=patient)[:NEXT_OF_KIN_SHOWN])


def next_of_kin_add(
    *, context: AuditContext, patient_id: int, details: NextOfKinDetails
) -> NextOfKin:
    """Add a next of kin (reception and clinicians). Raises AccessRefused or RecordMerged,
    audited."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        _audit(
            context, AuditAction.CREATE, None, None, f"no such patient {patient_id}", allowed=False
        )
        raise AccessRefused(reveal=False)
    _check_write(context, patient, AuditAction.CREATE)
    with _refusal_audited(context, AuditAction.CREATE, None, patient):
        refuse_if_merged(patient)
        with transaction.atomic():
            lock_unmerged(patient.pk)
            kin = NextOfKin.objects.create(patient=patient, **asdict(details))
            _audit(context, AuditAction.CREATE, kin, patient, "next of kin added")
    return kin


def next_of_kin_update(
    *, context: AuditContext, next_of_kin_id: int, details: NextOfKinDetails
) -> NextOfKin:
    """Change a next of kin's details (reception and clinicians); the audit entry names the
    fields changed. Raises AccessRefused or RecordMerged, audited."""
    kin = _found(context, next_of_kin_id, AuditAction.UPDATE)
    with _refusal_audited(context, AuditAction.UPDATE, kin, kin.patient):
        refuse_if_merged(kin.patient)
        with transaction.atomic():
            lock_unmerged(kin.patient_id)
            locked = NextOfKin.objects.select_for_update().get(pk=kin.pk)
            values = asdict(details)
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "next of kin changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, kin.patient, detail)
    return locked


def next_of_kin_remove(*, context: AuditContext, next_of_kin_id: int) -> Patient:
    """Remove a next of kin (reception and clinicians); returns their patient. Removed
    already (a double submit) is not found (AccessRefused, 404). Raises AccessRefused or
    RecordMerged, audited."""
    kin = _found(context, next_of_kin_id, AuditAction.DELETE)
    with _refusal_audited(context, AuditAction.DELETE, kin, kin.patient):
        refuse_if_merged(kin.patient)
        with transaction.atomic():
            lock_unmerged(kin.patient_id)
            deleted, _ = NextOfKin.objects.filter(pk=kin.pk).delete()
            if deleted:  # else another submit removed it since it was found: audited below
                # The entry keeps the id of the row deleted, so the trail says which it was.
                _audit(context, AuditAction.DELETE, kin, kin.patient, "next of kin removed")
    if not deleted:
        _audit(context, AuditAction.DELETE, kin, None, "no such next of kin", allowed=False)
        raise AccessRefused(reveal=False)
    return kin.patient


def _found(context: AuditContext, next_of_kin_id: int, action: AuditAction) -> NextOfKin:
    kin = NextOfKin.objects.select_related("patient").filter(pk=next_of_kin_id).first()
    if kin is None:
        _audit(context, action, None, None, "no such next of kin", allowed=False)
        raise AccessRefused(reveal=False)
    _check_write(context, kin.patient, action, kin)
    return kin
