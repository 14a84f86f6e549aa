"""Writing the audit trail. Every read or write of patient data, allowed or refused, calls
:func:`audit_record`; callers record a write's entry inside the write's transaction, and a
refusal before raising, outside any transaction that the refusal would roll back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest

from clinic.accounts.requests import client_address, user_agent
from clinic.audit.models import AuditAction, AuditChannel, AuditEntry, AuditOutcome

if TYPE_CHECKING:
    from django.db.models import Model

    from clinic.accounts.models import User
    from clinic.records.models import Patient

PATH_MAX_LENGTH = 300
DETAIL_MAX_LENGTH = 300


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, from where, through which channel."""

    actor: User | None
    ip_address: str | None = None
    user_agent: str = ""
    path: str = ""
    channel: AuditChannel = AuditChannel.SYSTEM

    @classmethod
    def from_request(cls, request: HttpRequest, *, channel: AuditChannel) -> AuditContext:
        user = request.user
        return cls(
            actor=user if user.is_authenticated else None,
            ip_address=client_address(request),
            user_agent=user_agent(request),
            path=request.path[:PATH_MAX_LENGTH],
            channel=channel,
        )


def audit_record_many(
    *,
    context: AuditContext,
    action: AuditAction,
    object_type: str,
    patients: list[Patient],
    detail: str = "",
) -> None:
    """One allowed entry per patient, for a read that shows several at once (a list), so
    each patient's access log shows it."""
    actor = context.actor
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=actor,
            actor_email=actor.email if actor else "",
            actor_role=actor.role if actor else "",
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            patient=patient,
            object_type=object_type,
            object_id=str(patient.pk),
            action=action,
            outcome=AuditOutcome.ALLOWED,
            channel=context.channel,
            path=context.path,
            detail=detail[:DETAIL_MAX_LENGTH],
        )
        for patient in patients
    )


def audit_record(
    *,
    context: AuditContext,
    action: AuditAction,
    outcome: AuditOutcome,
    object_type: str,
    object_id: object = "",
    patient: Patient | None = None,
    detail: str = "",
) -> AuditEntry:
    """Append one entry to the audit trail."""
    actor = context.actor
    return AuditEntry.objects.create(
        actor=actor,
        actor_email=actor.email if actor else "",
        actor_role=actor.role if actor else "",
        ip_address=context.ip_address,
        user_agent=context.user_agent,
        patient=patient,
        object_type=object_type,
        object_id=str(object_id)[:60],
        action=action,
        outcome=outcome,
        channel=context.channel,
        path=context.path,
        detail=detail[:DETAIL_MAX_LENGTH],
    )


def audit_object(
    context: AuditContext,
    action: AuditAction,
    obj: Model | None,
    patient: Patient | None,
    detail: str,
    *,
    object_type: str,
    allowed: bool = True,
) -> None:
    """One entry about one object (or none yet, for a refused create). Modules bind
    ``object_type`` once: ``_audit = partial(audit_object, object_type="recall")``."""
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.ALLOWED if allowed else AuditOutcome.REFUSED,
        object_type=object_type,
        object_id=obj.pk if obj is not None else "",
        patient=patient,
        detail=detail,
    )
