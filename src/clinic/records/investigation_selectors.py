"""Reads of the investigations and the work-up advice, for clinicians only
(investigations.check_clinician): the patient page's panel, the patient's investigations page
and one investigation. Each checks access, uses a fixed number of queries, and audits what it
shows with ids and counts only."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db.models import Prefetch

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.access import Access
from clinic.records.encounters import may_use_encounters
from clinic.records.investigation_workup import WorkupAdvice, advice_for, latest_decided_review
from clinic.records.investigations import check_clinician, found_investigation
from clinic.records.models import (
    Investigation,
    InvestigationAttachment,
    InvestigationStatus,
    Patient,
)

# The most one patient's page lists (a long work-up is a few dozen).
INVESTIGATIONS_SHOWN = 200

_audit = partial(audit_object, object_type="investigation")


@dataclass(frozen=True)
class InvestigationsPanel:
    """The patient's investigations, newest order first, and the work-up advice."""

    investigations: list[Investigation]
    advice: WorkupAdvice

    @property
    def awaiting(self) -> int:
        return sum(1 for i in self.investigations if i.status == InvestigationStatus.ORDERED)


def _rows(patient: Patient, *, attachments: bool) -> list[Investigation]:
    rows = (
        Investigation.objects.filter(patient=patient)
        .select_related("ordered_by")
        .order_by("-ordered_on", "-pk")
    )
    if attachments:
        uploads = InvestigationAttachment.objects.order_by("uploaded_at", "pk")
        rows = rows.prefetch_related(Prefetch("attachments", queryset=uploads))
    return list(rows[:INVESTIGATIONS_SHOWN])


def _panel(context: AuditContext, patient: Patient, *, attachments: bool) -> InvestigationsPanel:
    investigations = _rows(patient, attachments=attachments)
    advice = advice_for(latest_decided_review(patient), investigations)
    if investigations or advice.review is not None:  # nothing shown, nothing read
        detail = (
            f"{len(investigations)} investigations; work-up advice: {len(advice.items)} items, "
            f"{advice.outstanding} investigations outstanding"
        )
        _audit(context, AuditAction.READ, None, patient, detail)
    return InvestigationsPanel(investigations=investigations, advice=advice)


def investigations_section(
    *, context: AuditContext, patient: Patient
) -> InvestigationsPanel | None:
    """The patient page's work-up panel: None (not shown, nothing refused) for anyone but a
    clinician; else three queries (the investigations, the latest decided classification,
    the audit entry)."""
    if not may_use_encounters(context.actor, patient, Access.READ):
        return None
    return _panel(context, patient, attachments=False)


def investigations_of_patient(*, context: AuditContext, patient: Patient) -> InvestigationsPanel:
    """The investigations page: every investigation with its attachments, and the advice.
    Clinicians only (AccessRefused, audited: 403 for other staff, 404 for patients)."""
    check_clinician(context, patient, AuditAction.READ)
    return _panel(context, patient, attachments=True)


@dataclass(frozen=True)
class InvestigationDetail:
    """One investigation and its attached reports, oldest first."""

    investigation: Investigation
    attachments: list[InvestigationAttachment]


def investigation_for_clinician(
    *, context: AuditContext, investigation_id: int
) -> InvestigationDetail:
    """One investigation with its patient and attachments (two queries, one audit entry).
    Raises InvestigationNotFound or AccessRefused (404), both audited."""
    found = found_investigation(context, investigation_id, AuditAction.READ)
    attachments = list(
        found.attachments.select_related("uploaded_by").order_by("uploaded_at", "pk")
    )
    _audit(context, AuditAction.READ, found, found.patient, "investigation read")
    return InvestigationDetail(investigation=found, attachments=attachments)
