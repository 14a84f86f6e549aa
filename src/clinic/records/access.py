"""Who may read or write which patient's data: the one place every view, API handler,
service and selector asks (docs/access.md). Deny by default; one condition per line.

| role | own record | other patients | categories |
| --- | --- | --- | --- |
| patient | read all; write demographics, appointments, enquiries | never | - |
| reception | - | read and write | demographics, appointments, enquiries |
| clinician | - | read and write | all, clinical included |
| admin | - | never | none: administrators manage accounts, not records |

Staff must also have completed two-factor sign-in in this session.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record


class DataCategory(StrEnum):
    """The kinds of patient data, each with its own rule."""

    DEMOGRAPHICS = "demographics"
    APPOINTMENTS = "appointments"
    ENQUIRIES = "enquiries"
    CLINICAL = "clinical"


class Access(StrEnum):
    """Reading or writing."""

    READ = "read"
    WRITE = "write"


RECEPTION_CATEGORIES = frozenset(
    {DataCategory.DEMOGRAPHICS, DataCategory.APPOINTMENTS, DataCategory.ENQUIRIES}
)
PATIENT_WRITABLE = RECEPTION_CATEGORIES


class AccessRefused(Exception):  # noqa: N818 - reads as the event
    """Access was refused; ``reveal`` is False when even the object's existence must not be
    confirmed (answer 404 rather than 403)."""

    def __init__(self, *, reveal: bool) -> None:
        self.reveal = reveal
        super().__init__("Access refused")

    def page_error(self) -> Exception:
        """What a web page raises for it: 403 for staff, 404 where existence is hidden."""
        return PermissionDenied() if self.reveal else Http404()


def two_factor_done(user: Any) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def access_patient_data(  # noqa: PLR0911 - one condition per line, so coverage shows each
    user: Any, *, patient_user_id: int | None, category: DataCategory, access: Access
) -> bool:
    """May this user read or write this category of data of the patient whose account id is
    ``patient_user_id`` (``None`` when the patient has no account)?"""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.role == Role.PATIENT:
        return _own_record(user, patient_user_id, category, access)
    if not two_factor_done(user):
        return False
    if user.role == Role.CLINICIAN:
        return True
    if user.role == Role.RECEPTION:
        return category in RECEPTION_CATEGORIES
    return False


def _own_record(
    user: Any, patient_user_id: int | None, category: DataCategory, access: Access
) -> bool:
    if patient_user_id is None:
        return False
    if patient_user_id != user.pk:
        return False
    return access is Access.READ or category in PATIENT_WRITABLE


def access_staff_write(user: Any, *, patient_user_id: int | None, category: DataCategory) -> bool:
    """May this member of staff write this category of the patient's data? As
    access_patient_data, but never the patient themselves (next of kin, alerts: what the
    unit records about them)."""
    if user is None or getattr(user, "role", None) == Role.PATIENT:
        return False
    return access_patient_data(
        user, patient_user_id=patient_user_id, category=category, access=Access.WRITE
    )


def access_patient_list(user: Any) -> bool:
    """May this user search and list patients? Reception and clinicians, after two-factor."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.role not in {Role.RECEPTION, Role.CLINICIAN}:
        return False
    return two_factor_done(user)


def access_create_patient(user: Any) -> bool:
    """May this user register a new patient? Reception and clinicians, after two-factor."""
    return access_patient_list(user)


def access_audit_log(user: Any) -> bool:
    """May this user search and export the whole audit trail? Administrators, after
    two-factor."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.role != Role.ADMIN:
        return False
    return two_factor_done(user)


def refusal_reveals(user: Any) -> bool:
    """Staff are told they lack the right (403); patients and anonymous visitors learn
    nothing about other records (404)."""
    return bool(user is not None and user.is_authenticated and user.role != Role.PATIENT)


def refuse(
    context: AuditContext,
    *,
    object_type: str,
    object_id: object = "",
    patient: Any = None,
    detail: str,
    action: AuditAction = AuditAction.READ,
) -> AccessRefused:
    """Record a refusal in the audit trail and return the exception to raise (403 or 404
    as refusal_reveals decides)."""
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.REFUSED,
        object_type=object_type,
        object_id=object_id,
        patient=patient,
        detail=detail,
    )
    return AccessRefused(reveal=refusal_reveals(context.actor))


def access_enquiry(user: Any, *, sender_id: int | None, access: Access) -> bool:
    """Queries and second-opinion requests: the sender's own, and reception and clinicians
    (after two-factor) for triage. Administrators have no access."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if sender_id is not None and sender_id == user.pk:
        return True
    if user.role not in {Role.RECEPTION, Role.CLINICIAN}:
        return False
    return two_factor_done(user)


def access_enquiry_clinical(user: Any, *, sender_id: int | None) -> bool:
    """The clinical parts of a second opinion (the current diagnosis and treatment, the
    thread's messages, the opinion, the uploaded documents): the sender, and clinicians after
    two-factor; not reception, who see the question, status, assignment and document names."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if sender_id is not None and sender_id == user.pk:
        return True
    if user.role != Role.CLINICIAN:
        return False
    return two_factor_done(user)


def access_write_opinion(user: Any, *, assigned_to_id: int | None) -> bool:
    """Only the clinician the request is assigned to writes the opinion."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.role != Role.CLINICIAN:
        return False
    if assigned_to_id != user.pk:
        return False
    return two_factor_done(user)


def access_enquiry_inbox(user: Any) -> bool:
    """The triage inbox: reception and clinicians, after two-factor."""
    return access_patient_list(user)


def access_calendar_feed(  # noqa: PLR0911 - one condition per line, so coverage shows each
    user: Any, *, practitioner_id: int, create: bool
) -> bool:
    """May this user create (``create``) or revoke a feed of this practitioner? The
    clinician who is that practitioner; administrators may revoke any feed (a lost phone, a
    leaver) but not create one, since a feed shows patients' hospital numbers and
    administrators see no patient data (docs/access.md). Two-factor sign-in first."""
    if user is None:
        return False
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.role == Role.ADMIN and not create:
        return two_factor_done(user)
    if user.role != Role.CLINICIAN:
        return False
    if user.practitioner_id != practitioner_id:
        return False
    return two_factor_done(user)


def access_merge_patients(user: Any) -> bool:
    """May this user compare and merge duplicate patient records? Administrators, after
    two-factor: the comparison shows identifiers, demographics and counts only, never
    clinical content (docs/access.md)."""
    if user is None:
        return False
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.role != Role.ADMIN:
        return False
    return two_factor_done(user)
