"""Writes to enquiries: each checks access, runs in one transaction, is audited, and sends
its emails after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.accounts.models import Role, User
from clinic.accounts.requests import address_network
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.enquiries.models import (
    SENDER_NAME_MAX_LENGTH,
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

logger = logging.getLogger(__name__)

RATE_LIMITED = (
    "We have received several messages from you in the last hour. Please wait before sending "
    "another, or telephone one of our sites."
)
NOT_A_PATIENT = "Second opinions are requested from a patient account."
NOT_STAFF = "Enquiries can be assigned only to reception staff or clinicians."
NOT_CLINICIAN = "A second opinion is assigned to a clinician."
CLOSED = "This enquiry is closed: nothing more can be added to it or changed."
OPINION_WRITTEN = "The second opinion has already been written; it cannot be changed."
OPINION_WRITTEN_ASSIGN = (
    "The second opinion has already been written, so the request cannot be reassigned."
)


class EnquiryRefused(ValueError):  # noqa: N818 - reads as the event
    """The request cannot be accepted; the message says why."""


class RateLimited(EnquiryRefused):
    """Too many queries from this address, account or email address in the last hour."""


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
    """Send one email; a failure is logged, never raised: the write it follows is saved."""
    try:
        context = {"enquiry": enquiry, "clinic_name": settings.CLINIC_NAME, **(extra or {})}
        subject = render_to_string(f"enquiries/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"enquiries/email/{template}.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [enquiry.sender_email])
    except Exception:
        logger.exception("Could not send the %r email for enquiry %s", template, enquiry.pk)


def _notify_after_commit(
    enquiry: Enquiry, template: str, extra: dict[str, object] | None = None
) -> None:
    """Email once the transaction has committed; robust, so a failure cannot undo or fail
    the request that made the change."""
    transaction.on_commit(lambda: _notify(enquiry, template, extra), robust=True)


def _status(enquiry: Enquiry, to_status: str, by: User | None, note: str = "") -> None:
    if enquiry.status == to_status and not note:
        return
    EnquiryStatusChange.objects.create(
        enquiry=enquiry, from_status=enquiry.status, to_status=to_status, changed_by=by, note=note
    )
    enquiry.status = to_status


def _rate_limited(*, network: str, actor: User | None, email: str) -> bool:
    """Has this network (an IPv4 address, or an IPv6 /64), account or email address sent
    QUERY_RATE_LIMIT_PER_HOUR queries in the last hour?"""
    since = timezone.now() - timedelta(hours=1)
    recent = Enquiry.objects.filter(kind=EnquiryKind.QUERY, created_at__gte=since)
    limit = settings.QUERY_RATE_LIMIT_PER_HOUR
    if network and recent.filter(sender_network=network).count() >= limit:
        return True
    if actor is not None and recent.filter(sender=actor).count() >= limit:
        return True
    return recent.filter(sender_email__iexact=email).count() >= limit


def query_submit(*, context: AuditContext, details: QueryDetails) -> Enquiry:
    """Anyone sends a query; rate limited per network, per account and per email address;
    acknowledged by email. Raises RateLimited."""
    network = address_network(context.ip_address)
    if _rate_limited(network=network, actor=context.actor, email=details.sender_email):
        raise RateLimited(RATE_LIMITED)
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
            sender_network=network,
        )
        EnquiryStatusChange.objects.create(
            enquiry=enquiry, to_status=EnquiryStatus.NEW, changed_by=actor
        )
        _audit(context, AuditAction.CREATE, enquiry, "query sent")
        _notify_after_commit(enquiry, "received")
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
    stored: list[EnquiryDocument] = []
    try:
        with transaction.atomic():
            enquiry = Enquiry.objects.create(
                kind=EnquiryKind.SECOND_OPINION,
                topic="symptoms",
                sender_name=patient.full_name[:SENDER_NAME_MAX_LENGTH],
                sender_email=actor.email,
                sender_phone=details.sender_phone,
                sender=actor,
                patient=patient,
                message=details.question,
                question=details.question,
                current_diagnosis=details.current_diagnosis,
                current_treatment=details.current_treatment,
                sender_ip=context.ip_address,
                sender_network=address_network(context.ip_address),
            )
            EnquiryStatusChange.objects.create(
                enquiry=enquiry, to_status=EnquiryStatus.NEW, changed_by=actor
            )
            for upload in uploads:
                _document_save(enquiry, upload, actor, stored)
            _audit(
                context,
                AuditAction.CREATE,
                enquiry,
                f"second opinion requested, {len(uploads)} documents",
            )
            _notify_after_commit(enquiry, "received")
    except BaseException:
        # The rows are rolled back; the files are not, so remove them too.
        _documents_discard(stored)
        raise
    return enquiry


def _document_save(
    enquiry: Enquiry, upload: CheckedUpload, by: User, stored: list[EnquiryDocument]
) -> EnquiryDocument:
    """Store one file and its row; ``stored`` collects every document whose file may have
    been written, for _documents_discard if the transaction fails."""
    document = EnquiryDocument(
        enquiry=enquiry,
        original_name=upload.display_name,
        content_type=upload.content_type,
        size_bytes=upload.size_bytes,
        sha256=upload.sha256,
        uploaded_by=by,
    )
    stored.append(document)
    document.file.save("upload", upload.file, save=False)
    document.save()
    return document


def _documents_discard(documents: list[EnquiryDocument]) -> None:
    """Delete the stored files of documents whose rows were rolled back."""
    for document in documents:
        try:
            document.file.delete(save=False)
        except Exception:
            logger.exception("Could not delete the orphaned upload %s", document.file.name)


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


def reply_refusal(enquiry: Enquiry) -> str:
    """Why no message can be added to this enquiry's thread now; empty when one can."""
    if enquiry.status == EnquiryStatus.CLOSED:
        return CLOSED
    return ""


def assign_refusal(enquiry: Enquiry) -> str:
    """Why this enquiry cannot be (re)assigned now; empty when it can."""
    if enquiry.status == EnquiryStatus.CLOSED:
        return CLOSED
    if enquiry.kind == EnquiryKind.SECOND_OPINION and enquiry.opinion:
        return OPINION_WRITTEN_ASSIGN
    return ""


def close_refusal(enquiry: Enquiry) -> str:
    """Why this enquiry cannot be closed now (it already is); empty when it can."""
    if enquiry.status == EnquiryStatus.CLOSED:
        return CLOSED
    return ""


def opinion_refusal(enquiry: Enquiry) -> str:
    """Why no second opinion can be written on this enquiry now; empty when one can. An
    opinion, once written, is never overwritten."""
    if enquiry.status == EnquiryStatus.CLOSED:
        return CLOSED
    if enquiry.opinion:
        return OPINION_WRITTEN
    return ""


@contextmanager
def _refusals_audited(context: AuditContext, enquiry: Enquiry, detail: str) -> Iterator[None]:
    """Record an EnquiryRefused raised inside (after the transaction inside has rolled back,
    so the entry stays), then let it through."""
    try:
        yield
    except EnquiryRefused as refusal:
        _audit(context, AuditAction.UPDATE, enquiry, f"{detail} refused: {refusal}", allowed=False)
        raise


def _refuse_if(reason: str) -> None:
    if reason:
        raise EnquiryRefused(reason)


def enquiry_reply(*, context: AuditContext, enquiry_id: int, body: str) -> EnquiryMessage:
    """Add a message: staff reply to the sender (emailed), or the sender follows up. Nothing
    is added to a closed enquiry (EnquiryRefused, audited)."""
    enquiry = _check_write(context, enquiry_id, AuditAction.UPDATE, "reply")
    actor = context.actor
    from_staff = actor is not None and actor.pk != enquiry.sender_id
    detail = "staff reply" if from_staff else "sender follow-up"
    with _refusals_audited(context, enquiry, detail), transaction.atomic():
        enquiry = _locked(enquiry.pk)
        _refuse_if(reply_refusal(enquiry))
        message = EnquiryMessage.objects.create(
            enquiry=enquiry, author=actor, from_staff=from_staff, body=body
        )
        if from_staff and enquiry.kind == EnquiryKind.QUERY:
            _status(enquiry, EnquiryStatus.ANSWERED, actor, "replied")
        elif not from_staff and enquiry.status == EnquiryStatus.ANSWERED:
            _status(enquiry, EnquiryStatus.NEW, actor, "the sender wrote again")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, detail)
        if from_staff:
            _notify_after_commit(enquiry, "reply", {"message": message})
    return message


def enquiry_assign(*, context: AuditContext, enquiry_id: int, assignee: User) -> Enquiry:
    """Assign an enquiry to a member of staff; a second opinion to a clinician. A closed
    enquiry, or a second opinion already written, is not reassigned (EnquiryRefused)."""
    enquiry = _check_write(context, enquiry_id, AuditAction.UPDATE, "assign")
    if context.actor is None or context.actor.pk == enquiry.sender_id:
        _audit(context, AuditAction.UPDATE, enquiry, "assign refused", allowed=False)
        raise AccessRefused(reveal=False)
    with _refusals_audited(context, enquiry, "assign"), transaction.atomic():
        if assignee.role not in {Role.RECEPTION, Role.CLINICIAN} or not assignee.is_active:
            raise EnquiryRefused(NOT_STAFF)
        if enquiry.kind == EnquiryKind.SECOND_OPINION and assignee.role != Role.CLINICIAN:
            raise EnquiryRefused(NOT_CLINICIAN)
        enquiry = _locked(enquiry.pk)
        _refuse_if(assign_refusal(enquiry))
        enquiry.assigned_to = assignee
        _status(enquiry, EnquiryStatus.ASSIGNED, context.actor, f"assigned to {assignee.full_name}")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, f"assigned to {assignee.email}")
    return enquiry


def enquiry_close(*, context: AuditContext, enquiry_id: int, note: str) -> Enquiry:
    """Close an enquiry (staff), with a note for the history; closing a closed enquiry is
    refused (EnquiryRefused), so the history has one "closed" row."""
    enquiry = _check_write(context, enquiry_id, AuditAction.UPDATE, "close")
    if context.actor is None or context.actor.pk == enquiry.sender_id:
        _audit(context, AuditAction.UPDATE, enquiry, "close refused", allowed=False)
        raise AccessRefused(reveal=False)
    with _refusals_audited(context, enquiry, "close"), transaction.atomic():
        enquiry = _locked(enquiry.pk)
        _refuse_if(close_refusal(enquiry))
        _status(enquiry, EnquiryStatus.CLOSED, context.actor, note or "closed")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, "closed")
    return enquiry


def second_opinion_answer(*, context: AuditContext, enquiry_id: int, opinion: str) -> Enquiry:
    """The assigned clinician writes the opinion, once (EnquiryRefused if it is written or the
    request closed); the patient is told it is ready (the email carries no clinical content:
    they read it after signing in)."""
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
    with _refusals_audited(context, enquiry, "opinion"), transaction.atomic():
        enquiry = _locked(enquiry.pk)
        _refuse_if(opinion_refusal(enquiry))
        enquiry.opinion = opinion
        enquiry.opinion_by = context.actor
        enquiry.opinion_at = timezone.now()
        _status(enquiry, EnquiryStatus.ANSWERED, context.actor, "opinion written")
        enquiry.save()
        _audit(context, AuditAction.UPDATE, enquiry, "second opinion written")
        _notify_after_commit(enquiry, "opinion_ready")
    return enquiry
