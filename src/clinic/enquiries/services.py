"""Writes to enquiries: each checks access, runs in one transaction, is audited, and sends
its emails after commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.enquiries.models import (
    Enquiry,
    EnquiryDocument,
    EnquiryKind,
    EnquiryMessage,
    EnquiryStatus,
    EnquiryStatusChange,
)
from clinic.enquiries.uploads import CheckedUpload
from clinic.records.access import (
    Access,
    AccessRefused,
    access_enquiry,
    access_write_opinion,
    refusal_reveals,
)
from clinic.records.models import Patient

RATE_LIMITED = (
    "We have received several messages from you in the last hour. Please wait before sending "
    "another, or telephone one of our sites."
)
NOT_A_PATIENT = "Second opinions are requested from a patient account."
NOT_STAFF = "Enquiries can be assigned only to reception staff or clinicians."
NOT_CLINICIAN = "A second opinion is assigned to a clinician."
CLOSED = "This enquiry is closed."


class EnquiryRefused(ValueError):  # noqa: N818 - reads as the event
    """The request cannot be accepted; the message says why."""


@dataclass(frozen=True)
class QueryDetails:
    """A query as the form validated it."""

    sender_name: str
    sender_email: str
    sender_phone: str
    topic: str
    message: str
    selfcheck_summary: str = ""


@dataclass(frozen=True)
class SecondOpinionDetails:
    """A second-opinion request as the form validated it."""

    question: str
    current_diagnosis: str
    current_treatment: str
    sender_phone: str = ""


def _audit(
    context: AuditContext,
    action: AuditAction,
    enquiry: Enquiry | None,
    detail: str,
    *,
    allowed: bool = True,
) -> None:
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.REFUSED,
        object_type="enquiry",
        object_id=enquiry.pk if enquiry else "",
        patient=enquiry.patient if enquiry else None,
        detail=detail,
    )


def _notify(enquiry: Enquiry, template: str, extra: dict[str, object] | None = None) -> None:
    context = {"enquiry": enquiry, "clinic_name": settings.CLINIC_NAME, **(extra or {})}
    subject = render_to_string(f"enquiries/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"enquiries/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [enquiry.sender_email])


def _status(enquiry: Enquiry, to_status: str, by: User | None, note: str = "") -> None:
    if enquiry.status == to_status and not note:
        return
    EnquiryStatusChange.objects.create(
        enquiry=enquiry, from_status=enquiry.status, to_status=to_status, changed_by=by, note=note
    )
    enquiry.status = to_status


def _rate_limited(*, ip_address: str | None, email: str) -> bool:
    since = timezone.now() - timedelta(hours=1)
    recent = Enquiry.objects.filter(kind=EnquiryKind.QUERY, created_at__gte=since)
    limit = settings.QUERY_RATE_LIMIT_PER_HOUR
    if ip_address and recent.filter(sender_ip=ip_address).count() >= limit:
        return True
    return recent.filter(sender_email__iexact=email).count() >= limit


def query_submit(*, context: AuditContext, details: QueryDetails) -> Enquiry:
    """Anyone sends a query; rate limited per address and per email; acknowledged by email."""
    if _rate_limited(ip_address=context.ip_address, email=details.sender_email):
        raise EnquiryRefused(RATE_LIMITED)
    actor = context.actor
    patient = Patient.objects.filter(user=actor).first() if actor is not None else None
    with transaction.atomic():
        enquiry = Enquiry.objects.create(
            kind=EnquiryKind.QUERY,
            topic=details.topic,
            sender_name=details.sender_name,
            sender_email=details.sender_email,
            sender_phone=details.sender_phone,
            sender=actor,
            patient=patient,
            message=details.message,
            selfcheck_summary=details.selfcheck_summary,
            sender_ip=context.ip_address,
        )
        EnquiryStatusChange.objects.create(
            enquiry=enquiry, to_status=EnquiryStatus.NEW, changed_by=actor
        )
        _audit(context, AuditAction.CREATE, enquiry, "query sent")
        transaction.on_commit(lambda: _notify(enquiry, "received"))
    return enquiry


def second_opinion_submit(
    *, context: AuditContext, details: SecondOpinionDetails, uploads: list[CheckedUpload]
) -> Enquiry:
    """A signed-in patient asks for a second opinion, with their documents."""
    actor = context.actor
    patient = Patient.objects.filter(user=actor).first() if actor is not None else None
    if actor is None or actor.role != Role.PATIENT or patient is None:
        _audit(context, AuditAction.CREATE, None, "second opinion refused", allowed=False)
        raise AccessRefused(reveal=refusal_reveals(actor))
    with transaction.atomic():
        enquiry = Enquiry.objects.create(
            kind=EnquiryKind.SECOND_OPINION,
            topic="symptoms",
            sender_name=patient.full_name,
            sender_email=actor.email,
            sender_phone=details.sender_phone,
            sender=actor,
            patient=patient,
            message=details.question,
            question=details.question,
            current_diagnosis=details.current_diagnosis,
            current_treatment=details.current_treatment,
            sender_ip=context.ip_address,
        )
        EnquiryStatusChange.objects.create(
            enquiry=enquiry, to_status=EnquiryStatus.NEW, changed_by=actor
        )
        for upload in uploads:
            _document_save(enquiry, upload, actor)
        _audit(
            context,
            AuditAction.CREATE,
            enquiry,
            f"second opinion requested, {len(uploads)} documents",
        )
        transaction.on_commit(lambda: _notify(enquiry, "received"))
    return enquiry


def _document_save(enquiry: Enquiry, upload: CheckedUpload, by: User) -> EnquiryDocument:
    document = EnquiryDocument(
        enquiry=enquiry,
        original_name=upload.display_name,
        content_type=upload.content_type,
        size_bytes=upload.size_bytes,
        sha256=upload.sha256,
        uploaded_by=by,
    )
    document.file.save("upload", upload.file, save=False)
    document.save()
    return document


def _locked(enquiry_id: int) -> Enquiry:
    """The enquiry, locked for the rest of the transaction."""
    return (
        Enquiry.objects.select_for_update(of=("self",)).select_related("patient").get(pk=enquiry_id)
    )


def _check_write(
    context: AuditContext, enquiry_id: int, action: AuditAction, detail: str
) -> Enquiry:
    enquiry = Enquiry.objects.select_related("patient").filter(pk=enquiry_id).first()
    if enquiry is None or not access_enquiry(
        context.actor, sender_id=enquiry.sender_id, access=Access.WRITE
    ):
        _audit(context, action, enquiry, f"{detail} refused", allowed=False)
        raise AccessRefused(reveal=refusal_reveals(context.actor) and enquiry is not None)
    return enquiry


def enquiry_reply(*, context: AuditContext, enquiry_id: int, body: str) -> EnquiryMessage:
    """Add a message: staff reply to the sender (emailed), or the sender follows up."""
    enquiry = _check_write(context, enquiry_id, AuditAction.UPDATE, "reply")
    actor = context.actor
    from_staff = actor is not None and actor.pk != enquiry.sender_id
    with transaction.atomic():
        enquiry = _locked(enquiry.pk)
        if enquiry.status == EnquiryStatus.CLOSED and not from_staff:
            raise EnquiryRefused(CLOSED)
        message = EnquiryMessage.objects.create(
            enquiry=enquiry, author=actor, from_staff=from_staff, body=body
        )
        if from_staff and enquiry.kind == EnquiryKind.QUERY:
            _status(enquiry, EnquiryStatus.ANSWERED, actor, "replied")
        elif not from_staff and enquiry.status in {EnquiryStatus.ANSWERED, EnquiryStatus.CLOSED}:
            _status(enquiry, EnquiryStatus.NEW, actor, "the sender wrote again")
        enquiry.save()
        _audit(
            context,
            AuditAction.UPDATE,
            enquiry,
            "staff reply" if from_staff else "sender follow-up",
        )
        if from_staff:
            transaction.on_commit(lambda: _notify(enquiry, "reply", {"message": message}))
    return message


def enquiry_assign(*, context: AuditContext, enquiry_id: int, assignee: User) -> Enquiry:
    """Assign an enquiry to a member of staff; a second opinion to a clinician."""
    enquiry = _check_write(context, enquiry_id, AuditAction.UPDATE, "assign")
    if context.actor is None or context.actor.pk == enquiry.sender_id:
        _audit(context, AuditAction.UPDATE, enquiry, "assign refused", allowed=False)
        raise AccessRefused(reveal=False)
    if assignee.role not in {Role.RECEPTION, Role.CLINICIAN} or not assignee.is_active:
        raise EnquiryRefused(NOT_STAFF)
    if enquiry.kind == EnquiryKind.SECOND_OPINION and assignee.role != Role.CLINICIAN:
        raise EnquiryRefused(NOT_CLINICIAN)
    with transaction.atomic():
        enquiry = _locked(enquiry.pk)
        enquiry.assigned_to = assignee
        _status(enquiry, EnquiryStatus.ASSIGNED, context.actor, f"assigned to {assignee.full_name}")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, f"assigned to {assignee.email}")
    return enquiry


def enquiry_close(*, context: AuditContext, enquiry_id: int, note: str) -> Enquiry:
    """Close an enquiry (staff), with a note for the history."""
    enquiry = _check_write(context, enquiry_id, AuditAction.UPDATE, "close")
    if context.actor is None or context.actor.pk == enquiry.sender_id:
        _audit(context, AuditAction.UPDATE, enquiry, "close refused", allowed=False)
        raise AccessRefused(reveal=False)
    with transaction.atomic():
        enquiry = _locked(enquiry.pk)
        _status(enquiry, EnquiryStatus.CLOSED, context.actor, note or "closed")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, "closed")
    return enquiry


def second_opinion_answer(*, context: AuditContext, enquiry_id: int, opinion: str) -> Enquiry:
    """The assigned clinician writes the opinion; the patient is told it is ready (the
    email carries no clinical content: they read it after signing in)."""
    enquiry = (
        Enquiry.objects.select_related("patient")
        .filter(pk=enquiry_id, kind=EnquiryKind.SECOND_OPINION)
        .first()
    )
    if enquiry is None or not access_write_opinion(
        context.actor, assigned_to_id=enquiry.assigned_to_id
    ):
        _audit(context, AuditAction.UPDATE, enquiry, "opinion refused", allowed=False)
        raise AccessRefused(reveal=refusal_reveals(context.actor) and enquiry is not None)
    with transaction.atomic():
        enquiry = _locked(enquiry.pk)
        enquiry.opinion = opinion
        enquiry.opinion_by = context.actor
        enquiry.opinion_at = timezone.now()
        _status(enquiry, EnquiryStatus.ANSWERED, context.actor, "opinion written")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, "second opinion written")
        transaction.on_commit(lambda: _notify(enquiry, "opinion_ready"))
    return enquiry
