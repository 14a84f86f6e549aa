"""Allergies and alerts (FHIR AllergyIntolerance and Flag): what every clinical page shows
about a patient before anything else (records/_alert_banner.html).

Who: everyone who may read the patient's demographics reads their alerts (reception need
"needs a hoist" and "anticoagulated" as much as clinicians; the patient sees their own).
Allergies and the clinical alerts (anticoagulated, pregnant, neuromuscular junction disorder)
are clinical facts: only clinicians add or end them. Reception add and end the practical ones
(needs a hoist, other). Patients write none; they tell the unit. An alert is never deleted:
ending it keeps it, with who ended it and when. Audit entries name the kind, never the
detail: administrators read the trail and see no clinical data. A merged duplicate record's
alerts are not written (merged.RecordMerged, 409, audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records import selectors
from clinic.records.access import (
    AccessRefused,
    DataCategory,
    access_staff_write,
    refusal_reveals,
)
from clinic.records.duplicates import fold_name
from clinic.records.merged import lock_unmerged, refusal_audited, refuse_if_merged
from clinic.records.models import AlertKind, Patient, PatientAlert

CLINICAL_KINDS = frozenset(
    {AlertKind.ALLERGY, AlertKind.ANTICOAGULATED, AlertKind.PREGNANT, AlertKind.NEUROMUSCULAR}
)
NEEDS_DETAIL = frozenset({AlertKind.ALLERGY, AlertKind.OTHER})
DETAIL_MAX_LENGTH = 200  # PatientAlert.detail's max_length
ENDED_SHOWN = 20

UNKNOWN_KIND = "Choose one of the kinds of alert listed."
DETAIL_REQUIRED = (
    "Say what it is: for an allergy, the substance and the reaction (for example Penicillin: rash)."
)
DETAIL_TOO_LONG = f"Keep the detail to {DETAIL_MAX_LENGTH} characters or fewer."
ALREADY_ACTIVE = "The patient already has this alert."
ALREADY_ENDED = "This alert has already ended."

_audit = partial(audit_object, object_type="patient_alert")
_refusal_audited = partial(refusal_audited, object_type="patient_alert")


class AlertRefused(Exception):  # noqa: N818 - reads as the event
    """The alert cannot be added or ended as asked; ``field`` names the input at fault
    (empty when none does)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


def category_of(kind: str) -> DataCategory:
    """Allergies and clinical alerts are clinical data; the practical ones demographics."""
    return DataCategory.CLINICAL if kind in CLINICAL_KINDS else DataCategory.DEMOGRAPHICS


def _audited_kind(kind: str) -> str:
    """What the audit trail may say of an alert's kind: administrators read the trail and see
    no clinical data, so a clinical kind (an allergy, a pregnancy) is only "clinical alert"."""
    return "clinical alert" if kind in CLINICAL_KINDS else f"alert ({kind})"


def may_write(user: Any, patient: Patient, kind: str) -> bool:
    """May this user add or end an alert of this kind for this patient?"""
    return access_staff_write(user, patient_user_id=patient.user_id, category=category_of(kind))


def kinds_for(user: Any, patient: Patient) -> list[AlertKind]:
    """The kinds of alert this user may add for this patient, in the model's order."""
    return [kind for kind in AlertKind if may_write(user, patient, kind)]


@dataclass(frozen=True)
class AlertSummary:
    """What the banner shows: the active alerts, whether an allergy was ever recorded (so
    "none recorded" is not mistaken for "none"), and, for the record page, ended ones."""

    active: tuple[PatientAlert, ...]
    allergy_ever_recorded: bool
    ended: tuple[PatientAlert, ...] = ()

    @property
    def allergies(self) -> list[PatientAlert]:
        return [alert for alert in self.active if alert.kind == AlertKind.ALLERGY]

    @property
    def others(self) -> list[PatientAlert]:
        return [alert for alert in self.active if alert.kind != AlertKind.ALLERGY]


def _summary(rows: list[PatientAlert]) -> AlertSummary:
    ended = sorted(
        (alert for alert in rows if alert.ended_at is not None),
        key=lambda alert: alert.ended_at or alert.recorded_at,
        reverse=True,
    )
    return AlertSummary(
        active=tuple(alert for alert in rows if alert.ended_at is None),
        allergy_ever_recorded=any(alert.kind == AlertKind.ALLERGY for alert in rows),
        ended=tuple(ended[:ENDED_SHOWN]),
    )


def active_alerts(patient: Patient) -> AlertSummary:
    """The patient's active alerts, for the banner on every clinical page (one query; its
    ``ended`` is left empty). Call after the page's own audited read of the patient."""
    rows = PatientAlert.objects.filter(patient=patient).filter(
        Q(ended_at__isnull=True) | Q(kind=AlertKind.ALLERGY)
    )
    summary = _summary(list(rows))
    return AlertSummary(active=summary.active, allergy_ever_recorded=summary.allergy_ever_recorded)


def alert_history(patient: Patient) -> AlertSummary:
    """Active alerts with who recorded them, and the latest ENDED_SHOWN ended ones with who
    ended them, for the patient's record page (one query)."""
    rows = PatientAlert.objects.filter(patient=patient).select_related("recorded_by", "ended_by")
    return _summary(list(rows))


@dataclass(frozen=True)
class AlertPermissions:
    """What the record page offers this user: adding alerts, and ending which ones (ids)."""

    can_add: bool
    endable: frozenset[int]


def permissions(user: Any, patient: Patient, summary: AlertSummary) -> AlertPermissions:
    """Which actions to offer; the services check again when they are used."""
    return AlertPermissions(
        can_add=bool(kinds_for(user, patient)),
        endable=frozenset(a.pk for a in summary.active if may_write(user, patient, a.kind)),
    )


def _refused(
    context: AuditContext,
    action: AuditAction,
    patient: Patient | None,
    detail: str,
    alert: PatientAlert | None = None,
) -> AccessRefused:
    _audit(context, action, alert, patient, detail, allowed=False)
    actor = context.actor
    return AccessRefused(
        reveal=patient is not None and actor is not None and refusal_reveals(actor)
    )


def patient_for_alerts(*, context: AuditContext, patient_id: int) -> Patient:
    """The patient, for the page that adds an alert: refused (audited) unless the actor may
    add some kind of alert, then read (audited). Raises AccessRefused."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise _refused(context, AuditAction.READ, None, f"no such patient {patient_id}")
    if not kinds_for(context.actor, patient):
        raise _refused(context, AuditAction.CREATE, patient, "alert create refused")
    return selectors.patient_for_user(context=context, patient_id=patient_id)


def alert_for_user(*, context: AuditContext, alert_id: int) -> PatientAlert:
    """One alert with its patient, for the page that ends it (audited read). Raises
    AccessRefused unless the actor may end this kind of alert."""
    alert = _alert(context, alert_id)
    _audit(context, AuditAction.READ, alert, alert.patient, f"read: {_audited_kind(alert.kind)}")
    return alert


def _alert(context: AuditContext, alert_id: int) -> PatientAlert:
    alert = PatientAlert.objects.select_related("patient", "recorded_by").filter(pk=alert_id)
    found = alert.first()
    if found is None:
        raise _refused(context, AuditAction.UPDATE, None, "no such alert")
    if not may_write(context.actor, found.patient, found.kind):
        detail = f"end refused: {_audited_kind(found.kind)}"
        raise _refused(context, AuditAction.UPDATE, found.patient, detail, found)
    return found


def _clean_detail(kind: str, detail: str) -> str:
    if kind not in AlertKind.values:
        raise AlertRefused(UNKNOWN_KIND, field="kind")
    detail = " ".join((detail or "").split())
    if kind in NEEDS_DETAIL and not detail:
        raise AlertRefused(DETAIL_REQUIRED, field="detail")
    if len(detail) > DETAIL_MAX_LENGTH:
        raise AlertRefused(DETAIL_TOO_LONG, field="detail")
    return detail


def alert_add(*, context: AuditContext, patient_id: int, kind: str, detail: str) -> PatientAlert:
    """Record an alert (clinicians any kind; reception the practical ones). Raises
    AccessRefused or RecordMerged (audited), or AlertRefused (bad input, or the same alert
    already active)."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise _refused(context, AuditAction.CREATE, None, f"no such patient {patient_id}")
    actor = context.actor
    if actor is None or not may_write(actor, patient, kind):
        raise _refused(
            context, AuditAction.CREATE, patient, f"create refused: {_audited_kind(kind)}"[:80]
        )
    with _refusal_audited(context, AuditAction.CREATE, None, patient):
        refuse_if_merged(patient)
        detail = _clean_detail(kind, detail)
        with transaction.atomic():
            # The patient's row lock makes "already active" hold against a second click.
            lock_unmerged(patient.pk)
            active = PatientAlert.objects.filter(patient=patient, kind=kind, ended_at__isnull=True)
            if any(fold_name(other.detail) == fold_name(detail) for other in active):
                raise AlertRefused(ALREADY_ACTIVE, field="kind" if not detail else "detail")
            alert = PatientAlert.objects.create(
                patient=patient, kind=kind, detail=detail, recorded_by=actor
            )
            _audit(context, AuditAction.CREATE, alert, patient, f"added: {_audited_kind(kind)}")
    return alert


def alert_end(*, context: AuditContext, alert_id: int) -> PatientAlert:
    """End an active alert, recording who and when (the same people who may add its kind).
    Raises AccessRefused or RecordMerged (audited), or AlertRefused when it has already
    ended."""
    found = _alert(context, alert_id)
    with _refusal_audited(context, AuditAction.UPDATE, found, found.patient):
        refuse_if_merged(found.patient)
        with transaction.atomic():
            lock_unmerged(found.patient_id)
            alert = PatientAlert.objects.select_for_update().get(pk=found.pk)
            if alert.ended_at is not None:
                raise AlertRefused(ALREADY_ENDED)
            alert.ended_at = timezone.now()
            alert.ended_by = context.actor
            alert.save(update_fields=["ended_at", "ended_by"])
            kind = _audited_kind(alert.kind)
            _audit(context, AuditAction.UPDATE, alert, found.patient, f"ended: {kind}")
    return alert
