"""Reads of recalls for reception and clinicians: the recall list (filtered, one bounded page,
a fixed number of queries whatever its length), one recall with its contact attempts, and a
patient's recalls. Every read checks access and leaves an audit entry for each patient
shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record, audit_record_many
from clinic.directory.models import Practitioner, Service, Site
from clinic.records.access import (
    Access,
    AccessRefused,
    DataCategory,
    access_patient_data,
    access_patient_list,
    refuse,
)
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import Recall, RecallContact, RecallStatus
from clinic.scheduling.recalls import RecallNotFound

# One page of the list; a bounded page keeps the page, its audit entries and its queries small.
RECALL_PAGE_SIZE = 50
PATIENT_RECALLS_SHOWN = 20


@dataclass(frozen=True)
class RecallFilters:
    """What the list shows: each filter left empty means any. ``due_by`` keeps recalls due
    on or before that date; ``status`` empty means every status."""

    site: Site | None = None
    practitioner: Practitioner | None = None
    service: Service | None = None
    due_by: date | None = None
    status: str = RecallStatus.OPEN


@dataclass(frozen=True)
class RecallRow:
    """One recall as the list shows it."""

    recall: Recall
    overdue: bool
    attempts: int
    last_contact: RecallContact | None

    @property
    def contacts(self) -> list[RecallContact]:
        return list(getattr(self.recall, "contact_list", []))


@dataclass(frozen=True)
class RecallPage:
    """One page of the recall list."""

    rows: list[RecallRow]
    number: int
    last_page: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.last_page


def _refused(context: AuditContext, detail: str, patient: Patient | None = None) -> AccessRefused:
    object_type = "recall_list" if patient is None else "recall"
    return refuse(context, object_type=object_type, patient=patient, detail=detail)


def _with_relations(recalls: QuerySet[Recall]) -> QuerySet[Recall]:
    contacts = RecallContact.objects.select_related("by").order_by("at", "pk")
    return recalls.select_related(
        "patient", "service", "site", "practitioner", "appointment"
    ).prefetch_related(Prefetch("contacts", queryset=contacts, to_attr="contact_list"))


def _row(recall: Recall, today: date) -> RecallRow:
    contacts: list[RecallContact] = getattr(recall, "contact_list", [])
    return RecallRow(
        recall=recall,
        overdue=recall.status == RecallStatus.OPEN and recall.due_by < today,
        attempts=len(contacts),
        last_contact=contacts[-1] if contacts else None,
    )


def _filtered(filters: RecallFilters) -> QuerySet[Recall]:
    recalls = Recall.objects.all()
    if filters.status:
        recalls = recalls.filter(status=filters.status)
    if filters.site is not None:
        recalls = recalls.filter(site=filters.site)
    if filters.practitioner is not None:
        recalls = recalls.filter(practitioner=filters.practitioner)
    if filters.service is not None:
        recalls = recalls.filter(service=filters.service)
    if filters.due_by is not None:
        recalls = recalls.filter(due_by__lte=filters.due_by)
    return recalls.order_by("due_by", "pk")


def recalls_for_staff(
    *, context: AuditContext, filters: RecallFilters, page: int = 1
) -> RecallPage:
    """One page of the recall list, earliest due first (reception and clinicians). Every
    patient shown gets an audit entry; the queries do not grow with the page's length."""
    if not access_patient_list(context.actor):
        raise _refused(context, "recall list refused")
    recalls = _filtered(filters)
    total = recalls.count()
    last_page = max(1, -(-total // RECALL_PAGE_SIZE))
    number = min(max(page, 1), last_page)
    first = (number - 1) * RECALL_PAGE_SIZE
    listed = list(_with_relations(recalls)[first : first + RECALL_PAGE_SIZE])
    patients = list({recall.patient for recall in listed})
    audit_record_many(
        context=context,
        action=AuditAction.READ,
        object_type="recall_list",
        patients=patients,
        detail=f"recall list page {number}: {len(patients)} patients shown",
    )
    today = local_today()
    return RecallPage(
        rows=[_row(recall, today) for recall in listed],
        number=number,
        last_page=last_page,
        total=total,
    )


def _may_read(user: object, patient: Patient) -> bool:
    """Reception and clinicians read recalls; patients do not (recalls are the unit's
    worklist), nor administrators."""
    if getattr(user, "role", None) not in {Role.RECEPTION, Role.CLINICIAN}:
        return False
    return access_patient_data(
        user,
        patient_user_id=patient.user_id,
        category=DataCategory.APPOINTMENTS,
        access=Access.READ,
    )


def recall_for_staff(*, context: AuditContext, recall_id: int) -> RecallRow:
    """One recall with all its contact attempts; raises RecallNotFound or AccessRefused
    (both audited)."""
    recall = _with_relations(Recall.objects.filter(pk=recall_id)).first()
    if recall is None:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="recall",
            object_id=recall_id,
            detail="no such recall",
        )
        raise RecallNotFound
    if not _may_read(context.actor, recall.patient):
        raise _refused(context, "recall read refused", recall.patient)
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="recall",
        object_id=recall.pk,
        patient=recall.patient,
        detail="recall read",
    )
    return _row(recall, local_today())


def recalls_of_patient(*, context: AuditContext, patient: Patient) -> list[RecallRow]:
    """A patient's recalls, the latest first (for the staff patient page), audited when any
    are shown."""
    if not _may_read(context.actor, patient):
        raise _refused(context, "recalls read refused", patient)
    recalls = _with_relations(Recall.objects.filter(patient=patient)).order_by("-due_by", "-pk")
    listed = list(recalls[:PATIENT_RECALLS_SHOWN])
    if listed:  # as for every list: an entry when something of the patient's is shown
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.ALLOWED,
            object_type="recall_list",
            patient=patient,
            detail=f"{len(listed)} recalls",
        )
    today = local_today()
    return [_row(recall, today) for recall in listed]
