"""Clinic letters (FHIR DocumentReference): from a signed encounter, a letter to the GP and
the referrer with a copy to the patient (docs/clinical-record.md, letters).

- **Start** from a signed encounter only (a draft encounter is refused, 409), by any
  clinician; the author's own open draft for the encounter is opened rather than a second
  made (a double click). Defaults: to the GP when the patient consents to GP letters and a
  GP is recorded, to the referrer when one is recorded, a copy to the patient.
- **Addressees**: at least one; the GP only with the patient's consent (withdrawn consent is
  refused, never overridden) and a name and address recorded; the referrer with a name and
  address; the patient with an address or an account to read it online.
- **Edit** the draft's addressees, plan and comments: its author only (403 for others),
  based on the version they saw (``expected_updated_at``; 409 if saved elsewhere).
- **Send** (its author): the addressees, the HTML and the PDF are frozen in one transaction
  under the letter's row lock; a sent letter never changes (409) and is sent once.

Each write locks the patient's row first (no key), then the encounter's or the letter's, in
the merge's order so the two never deadlock; a record merged since the letter or encounter
was found is refused (409, records/merged.py).

Clinicians only, after two-factor: a letter is always asked for by an id (its own, or its
encounter's to start one), so nobody else learns whether it exists (404). Every write and
refusal is audited with ids, counts and addressee roles, never the letter's text; a lock
error (someone else changing the record) is refused as busy (409).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.audit.models import AuditAction, AuditOutcome
from clinic.audit.services import AuditContext, audit_object, audit_record
from clinic.records.access import Access, AccessRefused
from clinic.records.encounters import NUL_CHARACTER, may_use_encounters
from clinic.records.letter_document import (
    letter_content,
    render_letter_html,
    render_letter_pdf,
)
from clinic.records.locks import busy_as
from clinic.records.merged import lock_unmerged, refuse_if_merged
from clinic.records.models import Encounter, Letter, LetterStatus, Patient
from clinic.scheduling.availability import clinic_tz

# Input bounds (operational choices, as the encounter's addendum): a plan is a few paragraphs.
PLAN_MAX_LENGTH = 10_000
COMMENTS_MAX_LENGTH = 10_000

ENCOUNTER_NOT_SIGNED = "This encounter is not signed yet: sign it before writing a letter about it."
NO_ADDRESSEE = "Choose at least one addressee: the GP, the referrer or the patient."
GP_CONSENT_WITHDRAWN = (
    "The patient does not consent to letters to their GP, so this letter cannot go to the "
    "GP. Untick the GP, or record the patient's consent first."
)
GP_NOT_RECORDED = (
    "No GP with a name and address is recorded for this patient: record them first, or untick "
    "the GP."
)
REFERRER_NOT_RECORDED = (
    "No referrer with a name and address is recorded for this patient: record them first, or "
    "untick the referrer."
)
PATIENT_UNREACHABLE = (
    "The patient has no address recorded and no account to read the letter online: record "
    "their address first, or untick the copy to the patient."
)
PLAN_TOO_LONG = f"The plan can be at most {PLAN_MAX_LENGTH:,} characters."
COMMENTS_TOO_LONG = f"Comments can be at most {COMMENTS_MAX_LENGTH:,} characters."
PLAN_REQUIRED = "Write the plan before sending the letter."
SENT_LOCKED = "This letter has been sent and is kept exactly as sent: it cannot be changed."
ALREADY_SENT = "This letter has already been sent."
NOT_AUTHOR = "Only the letter's author ({name}) can change or send this draft."
STALE = (
    "This letter was saved elsewhere (another tab or device) since you opened this page, so "
    "your changes were not saved. Your text is kept below: compare it with the saved letter, "
    "then save again."
)
CHANGED_SINCE_SHOWN = (
    "This letter was changed since the confirmation page was shown: check it and send again."
)


class LetterRefused(ValueError):  # noqa: N818 - reads as the event
    """The write cannot be done as asked: ``message`` says why, ``field`` names the input it
    is about (empty for the whole request), ``status`` is the HTTP answer for a page."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        self.message = message
        self.field = field
        self.status = status
        super().__init__(message)


class LetterNotFound(Exception):  # noqa: N818 - reads as the event
    """No letter (or encounter) has that identifier."""


@dataclass(frozen=True)
class Addressing:
    """Whom a letter goes to."""

    to_gp: bool
    to_referrer: bool
    copy_to_patient: bool

    def roles(self) -> str:
        chosen = [
            ("GP", self.to_gp),
            ("referrer", self.to_referrer),
            ("patient", self.copy_to_patient),
        ]
        return ", ".join(name for name, wanted in chosen if wanted) or "nobody"


_audit = partial(audit_object, object_type="letter")


def check_clinician(
    context: AuditContext, patient: Patient, action: AuditAction, letter: Letter | None = None
) -> User:
    """The acting clinician, or an audited refusal. Letters are asked for by an id, so the
    refusal hides whether it exists (404), from staff as from patients."""
    actor = context.actor
    access = Access.READ if action in {AuditAction.READ, AuditAction.EXPORT} else Access.WRITE
    if actor is None or not may_use_encounters(actor, patient, access):
        _audit(context, action, letter, patient, f"letter {action.value} refused", allowed=False)
        raise AccessRefused(reveal=False)
    return actor


def not_found(context: AuditContext, object_type: str, object_id: int, action: AuditAction) -> None:
    """Audit a guessed or stale identifier (answered 404)."""
    audit_record(
        context=context,
        action=action,
        outcome=AuditOutcome.REFUSED,
        object_type=object_type,
        object_id=object_id,
        detail=f"no such {object_type}",
    )


@contextmanager
def _refusals_audited(
    context: AuditContext, action: AuditAction, letter: Letter | None, patient: Patient, what: str
) -> Iterator[None]:
    """Audit a LetterRefused raised in the block, a lock error refused as busy (409) included
    (wrap it around the transaction, so the entry is written after the rollback, not undone
    by it)."""
    try:
        with busy_as(LetterRefused):
            yield
    except LetterRefused as refusal:
        _audit(
            context, action, letter, patient, f"{what} refused: {refusal.message}", allowed=False
        )
        raise


def _has(*values: str) -> bool:
    return all(value.strip() for value in values)


def _gp_recorded(patient: Patient) -> bool:
    return _has(patient.gp_name or patient.gp_practice, patient.gp_address)


def _referrer_recorded(patient: Patient) -> bool:
    return _has(patient.referrer_name or patient.referrer_organisation, patient.referrer_address)


def _patient_reachable(patient: Patient) -> bool:
    """By post (an address) or online (an account, whose portal shows their letters)."""
    return bool(patient.address.strip() or patient.user_id)


def default_addressing(patient: Patient) -> Addressing:
    """To the GP when the patient consents and a GP is recorded, to the referrer when one
    is recorded, and a copy to the patient (unless they can be reached neither by post nor
    online): each with a name and address, so the defaults are always allowed."""
    return Addressing(
        to_gp=patient.consents_to_gp_letters and _gp_recorded(patient),
        to_referrer=_referrer_recorded(patient),
        copy_to_patient=_patient_reachable(patient),
    )


def check_addressing(patient: Patient, addressing: Addressing) -> None:
    """Refuse addressees the letter cannot go to (LetterRefused naming the field)."""
    if not (addressing.to_gp or addressing.to_referrer or addressing.copy_to_patient):
        raise LetterRefused(NO_ADDRESSEE, field="to_gp")
    if addressing.to_gp and not patient.consents_to_gp_letters:
        raise LetterRefused(GP_CONSENT_WITHDRAWN, field="to_gp")
    if addressing.to_gp and not _gp_recorded(patient):
        raise LetterRefused(GP_NOT_RECORDED, field="to_gp")
    if addressing.to_referrer and not _referrer_recorded(patient):
        raise LetterRefused(REFERRER_NOT_RECORDED, field="to_referrer")
    if addressing.copy_to_patient and not _patient_reachable(patient):
        raise LetterRefused(PATIENT_UNREACHABLE, field="copy_to_patient")


def _text(value: Any, *, limit: int, too_long: str, field: str) -> str:
    if not isinstance(value, str):
        raise LetterRefused(f"Enter text for the {field}.", field=field)
    text: str = value.replace("\r\n", "\n")
    if "\x00" in text:
        raise LetterRefused(NUL_CHARACTER, field=field)
    if len(text) > limit:
        raise LetterRefused(too_long, field=field)
    return text.strip()


def _encounter(context: AuditContext, encounter_id: int) -> Encounter:
    encounter = Encounter.objects.select_related("patient").filter(pk=encounter_id).first()
    if encounter is None:
        not_found(context, "encounter", encounter_id, AuditAction.CREATE)
        raise LetterNotFound
    return encounter


def letter_start(
    *, context: AuditContext, encounter_id: int, addressing: Addressing | None = None
) -> tuple[Letter, bool]:
    """Start a draft letter about a signed encounter (any clinician), addressed as asked or
    by ``default_addressing``; the author's existing draft for it is opened instead of a
    second made: ``(letter, created)``. Raises LetterNotFound, LetterRefused or
    AccessRefused, all audited."""
    encounter = _encounter(context, encounter_id)
    patient = encounter.patient
    author = check_clinician(context, patient, AuditAction.CREATE)
    with _refusals_audited(context, AuditAction.CREATE, None, patient, "letter start"):
        refuse_if_merged(patient, LetterRefused)
        with transaction.atomic():
            current = lock_unmerged(patient.pk, LetterRefused)  # as recorded now
            locked = Encounter.objects.select_for_update().get(pk=encounter.pk)
            if not locked.is_signed:
                raise LetterRefused(ENCOUNTER_NOT_SIGNED, status=409)
            existing = Letter.objects.filter(
                encounter=locked, author=author, status=LetterStatus.DRAFT
            ).first()
            if existing is not None:
                _audit(context, AuditAction.READ, existing, patient, "open draft opened")
                return existing, False
            chosen = addressing or default_addressing(current)
            check_addressing(current, chosen)
            letter = Letter.objects.create(
                encounter=locked,
                patient=current,
                to_gp=chosen.to_gp,
                to_referrer=chosen.to_referrer,
                copy_to_patient=chosen.copy_to_patient,
                author=author,
            )
            detail = f"draft started about encounter {locked.pk}, to {chosen.roles()}"
            _audit(context, AuditAction.CREATE, letter, current, detail)
            return letter, True


def _found(context: AuditContext, letter_id: int, action: AuditAction) -> tuple[Letter, User]:
    letter = (
        Letter.objects.select_related("patient").defer("pdf", "html").filter(pk=letter_id).first()
    )
    if letter is None:
        not_found(context, "letter", letter_id, action)
        raise LetterNotFound
    return letter, check_clinician(context, letter.patient, action, letter)


def _locked_draft(
    letter_id: int, author: User, expected_updated_at: datetime | None, *, sent: str, stale: str
) -> Letter:
    """Inside a transaction: the letter row, locked; refused once sent (``sent``), when the
    writer is not its author, or when it changed since ``expected_updated_at`` (``stale``)."""
    locked = (
        Letter.objects.select_for_update(of=("self",))  # not the author's user row
        .select_related("author")
        .defer("pdf", "html")
        .get(pk=letter_id)
    )
    if locked.is_sent:
        raise LetterRefused(sent, status=409)
    if locked.author_id != author.pk:
        raise LetterRefused(NOT_AUTHOR.format(name=locked.author.full_name), status=403)
    if expected_updated_at is not None and locked.updated_at != expected_updated_at:
        raise LetterRefused(stale, field="plan", status=409)
    return locked


def letter_update(
    *,
    context: AuditContext,
    letter_id: int,
    plan: Any,
    comments: Any,
    addressing: Addressing,
    expected_updated_at: datetime,
) -> Letter:
    """Replace a draft's addressees, plan and comments (its author only), based on the
    version the writer saw. Raises LetterNotFound, LetterRefused or AccessRefused, audited."""
    letter, author = _found(context, letter_id, AuditAction.UPDATE)
    patient = letter.patient
    with _refusals_audited(context, AuditAction.UPDATE, letter, patient, "letter save"):
        refuse_if_merged(patient, LetterRefused)
        plan = _text(plan, limit=PLAN_MAX_LENGTH, too_long=PLAN_TOO_LONG, field="plan")
        comments = _text(
            comments, limit=COMMENTS_MAX_LENGTH, too_long=COMMENTS_TOO_LONG, field="comments"
        )
        with transaction.atomic():
            current = lock_unmerged(patient.pk, LetterRefused)
            locked = _locked_draft(
                letter.pk, author, expected_updated_at, sent=SENT_LOCKED, stale=STALE
            )
            check_addressing(current, addressing)
            locked.plan, locked.comments = plan, comments
            locked.to_gp = addressing.to_gp
            locked.to_referrer = addressing.to_referrer
            locked.copy_to_patient = addressing.copy_to_patient
            locked.save(
                update_fields=[
                    "plan",
                    "comments",
                    "to_gp",
                    "to_referrer",
                    "copy_to_patient",
                    "updated_at",
                ]
            )
            detail = (
                f"draft saved: plan {len(plan):,} characters, comments {len(comments):,}, "
                f"to {addressing.roles()}"
            )
            _audit(context, AuditAction.UPDATE, locked, patient, detail)
            return locked


def letter_send(
    *, context: AuditContext, letter_id: int, expected_updated_at: datetime | None = None
) -> Letter:
    """Send a draft (its author): freeze its addressees as recorded now, its HTML and its
    PDF, in one transaction. With ``expected_updated_at`` (the confirmation page sends it),
    a letter changed since it was shown is not sent unseen. Sending twice is refused."""
    letter, author = _found(context, letter_id, AuditAction.UPDATE)
    patient = letter.patient
    refusals = _refusals_audited(context, AuditAction.UPDATE, letter, patient, "letter send")
    with refusals:
        refuse_if_merged(patient, LetterRefused)
        with transaction.atomic():
            return _send(context, letter.pk, patient.pk, author, expected_updated_at)


def _send(
    context: AuditContext,
    letter_id: int,
    patient_id: int,
    author: User,
    expected_updated_at: datetime | None,
) -> Letter:
    """letter_send's work, inside its transaction."""
    # The patient first, as the merge locks it (the letter first could deadlock with a
    # merge): its addressees as recorded now, held until the letter is frozen. No key: inserts
    # referencing the patient (an audit entry, a booking) go on.
    current = lock_unmerged(patient_id, LetterRefused)
    locked = _locked_draft(
        letter_id, author, expected_updated_at, sent=ALREADY_SENT, stale=CHANGED_SINCE_SHOWN
    )
    if not locked.plan.strip():
        raise LetterRefused(PLAN_REQUIRED, field="plan")
    check_addressing(current, Addressing(locked.to_gp, locked.to_referrer, locked.copy_to_patient))
    now = timezone.now()
    content = letter_content(locked, on=now.astimezone(clinic_tz()).date(), draft=False)
    html = render_letter_html(content)
    locked.addressees = [a.as_dict() for a in content.addressees]
    locked.html = html
    locked.pdf = render_letter_pdf(html)
    locked.status = LetterStatus.SENT
    locked.sent_at = now
    locked.sent_by = author
    locked.save(
        update_fields=[
            "addressees",
            "html",
            "pdf",
            "status",
            "sent_at",
            "sent_by",
            "updated_at",
        ]
    )
    detail = f"sent to {len(content.addressees)} addressees ({len(locked.pdf):,}-byte PDF)"
    _audit(context, AuditAction.UPDATE, locked, current, detail)
    return locked
