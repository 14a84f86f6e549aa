"""Therapy (docs/treatment.md): referrals to physiotherapy, speech and language therapy or
occupational therapy, with the reason, goals, status (referred, active, discharged, declined)
and, once discharged, the day and the outcome; and the sessions held, each attended or not, with
notes and progress.

A discharge needs its day (and only a discharge has one), not before the referral. Sessions lie
between the referral and the discharge, never in the future; a declined referral has none (409).
Clinicians only; any clinician writes. One transaction per write under the patient's row lock
(a merged record refused, 409), audited with ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.models import Patient
from clinic.treatment.models import Discipline, ReferralStatus, TherapyReferral, TherapySession
from clinic.treatment.models.therapy import (
    GOALS_MAX_LENGTH,
    OUTCOME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SESSION_TEXT_MAX_LENGTH,
)
from clinic.treatment.rules import (
    TreatmentRefused,
    check_choice,
    check_day,
    check_encounter,
    check_flag,
    check_text,
    found_for_clinician,
    lock_patient,
    patient_for_treatment,
    refusals_audited,
    required_day,
)

DISCHARGE_DAY_REQUIRED = "Give the day the patient was discharged."
DISCHARGE_DAY_ONLY_WHEN_DISCHARGED = (
    "A discharge day is given only for a discharged referral: choose Discharged, or clear it."
)
DISCHARGED_BEFORE_REFERRAL = "The discharge cannot be before the referral."
SESSION_BEFORE_REFERRAL = "A session cannot be before the referral."
SESSION_AFTER_DISCHARGE = "A session cannot be after the discharge."
DECLINED = "This referral was declined: no sessions are recorded for it."
SESSIONS_OUTSIDE = (
    "This referral has sessions outside those dates: the referral comes before its sessions and "
    "the discharge after them."
)

_audit = partial(audit_object, object_type="therapy_referral")


class ReferralNotFound(Exception):  # noqa: N818 - reads as the event
    """No therapy referral has that identifier."""


@dataclass(frozen=True)
class ReferralDetails:
    """A referral as a form hands it over."""

    discipline: str
    referred_on: Any
    reason: str = ""
    goals: str = ""
    status: str = ReferralStatus.REFERRED
    discharged_on: Any = None
    outcome: str = ""
    encounter: Any = None


@dataclass(frozen=True)
class SessionDetails:
    """A session as a form hands it over."""

    held_on: Any
    attended: Any = True
    notes: str = ""
    progress: str = ""


def check_referral(details: ReferralDetails, patient: Patient) -> dict[str, Any]:
    """The referral's fields as stored, or TreatmentRefused naming the first problem's field."""
    referred_on = check_day(
        details.referred_on, field="referred_on", label="The referral date", patient=patient
    )
    status = check_choice(details.status, ReferralStatus, field="status", label="Status")
    discharged_on = check_day(
        details.discharged_on,
        field="discharged_on",
        label="The discharge day",
        patient=patient,
        required=False,
    )
    if status == ReferralStatus.DISCHARGED and discharged_on is None:
        raise TreatmentRefused(DISCHARGE_DAY_REQUIRED, field="discharged_on")
    if status != ReferralStatus.DISCHARGED and discharged_on is not None:
        raise TreatmentRefused(DISCHARGE_DAY_ONLY_WHEN_DISCHARGED, field="discharged_on")
    if discharged_on is not None and referred_on is not None and discharged_on < referred_on:
        raise TreatmentRefused(DISCHARGED_BEFORE_REFERRAL, field="discharged_on")
    return {
        "discipline": check_choice(
            details.discipline, Discipline, field="discipline", label="Therapy"
        ),
        "referred_on": referred_on,
        "reason": check_text(
            details.reason, field="reason", label="Reason", limit=REASON_MAX_LENGTH
        ),
        "goals": check_text(details.goals, field="goals", label="Goals", limit=GOALS_MAX_LENGTH),
        "status": status,
        "discharged_on": discharged_on,
        "outcome": check_text(
            details.outcome, field="outcome", label="Outcome", limit=OUTCOME_MAX_LENGTH
        ),
        "encounter_id": check_encounter(patient, details.encounter),
    }


def check_session(details: SessionDetails, referral: TherapyReferral) -> dict[str, Any]:
    held_on = required_day(
        details.held_on, field="held_on", label="The session's date", patient=referral.patient
    )
    if held_on < referral.referred_on:
        raise TreatmentRefused(SESSION_BEFORE_REFERRAL, field="held_on")
    if referral.discharged_on is not None and held_on > referral.discharged_on:
        raise TreatmentRefused(SESSION_AFTER_DISCHARGE, field="held_on")
    return {
        "held_on": held_on,
        "attended": check_flag(details.attended, field="attended", label="Attended"),
        "notes": check_text(
            details.notes, field="notes", label="Notes", limit=SESSION_TEXT_MAX_LENGTH
        ),
        "progress": check_text(
            details.progress, field="progress", label="Progress", limit=SESSION_TEXT_MAX_LENGTH
        ),
    }


# Reads


def _found(
    context: AuditContext, referral_id: int, action: AuditAction
) -> tuple[TherapyReferral, User]:
    return found_for_clinician(
        context,
        find=lambda: (
            TherapyReferral.objects.select_related("patient").filter(pk=referral_id).first()
        ),
        patient_of=lambda found: found.patient,
        object_type="therapy_referral",
        object_id=referral_id,
        action=action,
        not_found=ReferralNotFound,
    )


def referral_for_clinician(*, context: AuditContext, referral_id: int) -> TherapyReferral:
    """One referral with its patient (an audited read). Raises ReferralNotFound or
    AccessRefused (404 for anyone but a clinician), both audited."""
    referral, _clinician = _found(context, referral_id, AuditAction.READ)
    _audit(context, AuditAction.READ, referral, referral.patient, "therapy referral read")
    return referral


def sessions_of(referral: TherapyReferral) -> list[TherapySession]:
    return list(TherapySession.objects.filter(referral=referral))


def details_of(referral: TherapyReferral) -> ReferralDetails:
    fields = {
        name: getattr(referral, name)
        for name in ReferralDetails.__dataclass_fields__
        if name != "encounter"
    }
    return ReferralDetails(**fields, encounter=referral.encounter_id)


# Writes


def referral_add(
    *, context: AuditContext, patient_id: int, details: ReferralDetails
) -> TherapyReferral:
    """Refer the patient to a therapy. Raises PatientNotFound, TreatmentRefused or
    AccessRefused, all audited."""
    patient, clinician = patient_for_treatment(
        context=context,
        patient_id=patient_id,
        action=AuditAction.CREATE,
        object_type="therapy_referral",
    )
    with refusals_audited(
        context, AuditAction.CREATE, None, patient, object_type="therapy_referral"
    ):
        values = check_referral(details, patient)
        with transaction.atomic():
            lock_patient(patient)
            referral = TherapyReferral.objects.create(
                patient=patient, referred_by=clinician, **values
            )
            _audit(context, AuditAction.CREATE, referral, patient, "therapy referral added")
    return referral


def referral_update(
    *, context: AuditContext, referral_id: int, details: ReferralDetails
) -> TherapyReferral:
    """Change a referral (its status, discharge and outcome too); its sessions must stay
    between the referral and the discharge. The audit entry names the fields changed."""
    found, _clinician = _found(context, referral_id, AuditAction.UPDATE)
    patient = found.patient
    with refusals_audited(
        context, AuditAction.UPDATE, found, patient, object_type="therapy_referral"
    ):
        values = check_referral(details, patient)
        with transaction.atomic():
            lock_patient(patient)
            locked = TherapyReferral.objects.select_for_update().get(pk=found.pk)
            _sessions_within(locked, values["referred_on"], values["discharged_on"])
            changed = [name for name, value in values.items() if getattr(locked, name) != value]
            for name, value in values.items():
                setattr(locked, name, value)
            locked.save()
            detail = "therapy referral changed: " + (", ".join(changed) or "nothing")
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
    return locked


def _sessions_within(
    referral: TherapyReferral, referred_on: date, discharged_on: date | None
) -> None:
    sessions = TherapySession.objects.filter(referral=referral)
    outside = sessions.filter(held_on__lt=referred_on)
    if discharged_on is not None:
        outside = outside | sessions.filter(held_on__gt=discharged_on)
    if outside.exists():
        raise TreatmentRefused(SESSIONS_OUTSIDE, field="referred_on")


def session_add(
    *, context: AuditContext, referral_id: int, details: SessionDetails
) -> TherapySession:
    """Record a session of a referral (not of a declined one: 409)."""
    found, clinician = _found(context, referral_id, AuditAction.UPDATE)
    patient = found.patient
    with (
        refusals_audited(
            context, AuditAction.UPDATE, found, patient, object_type="therapy_referral"
        ),
        transaction.atomic(),
    ):
        lock_patient(patient)
        locked = (
            TherapyReferral.objects.select_for_update().select_related("patient").get(pk=found.pk)
        )
        if locked.status == ReferralStatus.DECLINED:
            raise TreatmentRefused(DECLINED, status=409)
        values = check_session(details, locked)
        session = TherapySession.objects.create(referral=locked, recorded_by=clinician, **values)
        _audit(context, AuditAction.UPDATE, locked, patient, "therapy session added")
    return session
