"""Reads of enquiries: every one checks access and leaves an audit entry."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet

from clinic.accounts.models import User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record, audit_record_many
from clinic.enquiries.models import Enquiry, EnquiryDocument, EnquiryMessage, EnquiryStatusChange
from clinic.records.access import (
    Access,
    AccessRefused,
    access_enquiry,
    access_enquiry_clinical,
    access_enquiry_inbox,
    refuse,
)
from clinic.records.models import Patient

INBOX_LIMIT = 200


class EnquiryNotFound(Exception):  # noqa: N818 - reads as the event
    """No enquiry or document has that identifier."""


@dataclass(frozen=True)
class InboxFilters:
    """What the triage inbox narrows by; empty means any."""

    status: str = ""
    kind: str = ""
    mine: bool = False


def _refuse(
    context: AuditContext, object_type: str, object_id: object, enquiry: Enquiry | None
) -> AccessRefused:
    # Staff learn they lack the right; patients learn nothing about others' enquiries.
    return refuse(
        context,
        object_type=object_type,
        object_id=object_id,
        patient=enquiry.patient if enquiry else None,
        detail="read refused",
    )


def inbox_for_user(*, context: AuditContext, filters: InboxFilters) -> list[Enquiry]:
    """The triage inbox (reception and clinicians), newest first; the listing is audited."""
    if not access_enquiry_inbox(context.actor):
        raise _refuse(context, "enquiry_list", "", None)
    enquiries = Enquiry.objects.select_related("assigned_to", "patient").annotate(
        document_count=Count("documents")
    )
    if filters.status:
        enquiries = enquiries.filter(status=filters.status)
    if filters.kind:
        enquiries = enquiries.filter(kind=filters.kind)
    if filters.mine and context.actor is not None:
        enquiries = enquiries.filter(assigned_to=context.actor)
    listed: list[Enquiry] = list(enquiries[:INBOX_LIMIT])
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="enquiry_list",
        detail=f"inbox: {len(listed)} enquiries",
    )
    # And one entry per patient listed, so each patient's access log shows the read.
    patients = {e.patient_id: e.patient for e in listed if e.patient is not None}
    if patients:
        audit_record_many(
            context=context,
            action=AuditAction.READ,
            object_type="enquiry",
            patients=list(patients.values()),
            detail="listed in the enquiry inbox",
        )
    return listed


def enquiry_for_user(*, context: AuditContext, enquiry_id: int) -> Enquiry:
    """One enquiry with its thread, history and documents, for its sender or triage staff.

    Raises EnquiryNotFound or AccessRefused; both audited.
    """
    enquiry = (
        Enquiry.objects.select_related("patient", "assigned_to", "opinion_by")
        .prefetch_related(
            Prefetch("messages", queryset=EnquiryMessage.objects.select_related("author")),
            Prefetch(
                "status_changes", queryset=EnquiryStatusChange.objects.select_related("changed_by")
            ),
            "documents",
        )
        .filter(pk=enquiry_id)
        .first()
    )
    if enquiry is None:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="enquiry",
            object_id=enquiry_id,
            detail="no such enquiry",
        )
        raise EnquiryNotFound
    if not access_enquiry(context.actor, sender_id=enquiry.sender_id, access=Access.READ):
        raise _refuse(context, "enquiry", enquiry.pk, enquiry)
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="enquiry",
        object_id=enquiry.pk,
        patient=enquiry.patient,
        detail=f"{enquiry.get_kind_display()} read",
    )
    return enquiry


def enquiries_sent_by(*, context: AuditContext) -> list[Enquiry]:
    """The signed-in person's own queries and second opinions, newest first (audited)."""
    actor = context.actor
    if actor is None:
        return []
    own: list[Enquiry] = list(
        Enquiry.objects.filter(sender=actor).annotate(document_count=Count("documents"))
    )
    if own:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.ALLOWED,
            object_type="enquiry_list",
            patient=own[0].patient,
            detail=f"own enquiries: {len(own)}",
        )
    return own


def has_patient_record(*, user: User) -> bool:
    """Is this account linked to a patient record (needed to ask for a second opinion)? Only
    whether one exists is read, nothing of it."""
    return Patient.objects.filter(user=user).exists()


def documents_sent_by(*, user: User) -> QuerySet[EnquiryDocument]:
    """The documents a person has uploaded (for their home page; listed with their enquiries,
    whose read is audited)."""
    return EnquiryDocument.objects.filter(enquiry__sender=user).select_related("enquiry")


def document_for_user(*, context: AuditContext, document_id: int) -> EnquiryDocument:
    """An uploaded document, for its sender and clinicians (not reception: documents are
    clinical). Raises EnquiryNotFound or AccessRefused; both audited."""
    document = (
        EnquiryDocument.objects.select_related("enquiry__patient").filter(pk=document_id).first()
    )
    if document is None:
        audit_record(
            context=context,
            action=AuditAction.READ,
            outcome=AuditOutcome.REFUSED,
            object_type="document",
            object_id=document_id,
            detail="no such document",
        )
        raise EnquiryNotFound
    enquiry = document.enquiry
    if not access_enquiry_clinical(context.actor, sender_id=enquiry.sender_id):
        raise _refuse(context, "document", document.pk, enquiry)
    audit_record(
        context=context,
        action=AuditAction.READ,
        outcome=AuditOutcome.ALLOWED,
        object_type="document",
        object_id=document.pk,
        patient=enquiry.patient,
        detail=f"document {document.original_name!r} opened",
    )
    return document
