"""Reads of clinic letters: for clinicians (an encounter's letters, the patient page's list,
one letter with its preview, its PDF), and for the patient (their own sent copies on /my/).
Each checks access, uses a fixed number of queries and audits what it shows, every PDF
download included; a patient asking for a letter not copied to them, a draft or another
patient's letter is answered 404, audited."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.utils.safestring import SafeString

from clinic.accounts.models import Role
from clinic.audit.models import AuditAction
from clinic.audit.services import AuditContext, audit_object
from clinic.records.access import Access, AccessRefused, DataCategory, access_patient_data
from clinic.records.encounters import may_use_encounters
from clinic.records.letter_document import (
    LetterContent,
    letter_body,
    letter_content,
    render_letter_html,
    render_letter_pdf,
)
from clinic.records.letters import LetterNotFound, check_clinician, not_found
from clinic.records.models import Encounter, Letter, LetterStatus, Patient
from clinic.scheduling.availability import local_today

LETTERS_SHOWN = 100

_audit = partial(audit_object, object_type="letter")


def _listed(context: AuditContext, patient: Patient, letters: list[Letter], where: str) -> None:
    if letters:
        _audit(context, AuditAction.READ, None, patient, f"{len(letters)} letters listed ({where})")


def letters_of_encounter(*, context: AuditContext, encounter: Encounter) -> list[Letter]:
    """The encounter's letters, newest first, without their text (for its page, read by a
    clinician already; anyone else gets an empty list). One query, one audit entry."""
    if not may_use_encounters(context.actor, encounter.patient, Access.READ):
        return []
    letters = list(
        Letter.objects.filter(encounter=encounter)
        .select_related("author")
        .defer("html", "pdf", "plan", "comments")[:LETTERS_SHOWN]
    )
    _listed(context, encounter.patient, letters, f"encounter {encounter.pk}")
    return letters


def letters_section(*, context: AuditContext, patient: Patient) -> list[Letter] | None:
    """The patient's letters for the staff patient page: ``None`` (no section, nothing
    refused) for anyone but a clinician."""
    if not may_use_encounters(context.actor, patient, Access.READ):
        return None
    letters = list(
        Letter.objects.filter(patient=patient)
        .select_related("author", "encounter")
        .defer("html", "pdf", "plan", "comments", "encounter__notes")[:LETTERS_SHOWN]
    )
    _listed(context, patient, letters, "patient page")
    return letters


@dataclass(frozen=True)
class LetterPage:
    """A letter as a clinician's page shows it: a sent letter's frozen body, or a draft
    rendered now, and the draft's content (``None`` once sent)."""

    letter: Letter
    preview: SafeString
    content: LetterContent | None


def draft_html(letter: Letter) -> tuple[str, LetterContent]:
    """A draft rendered as of today, marked DRAFT."""
    content = letter_content(letter, on=local_today(), draft=True)
    return render_letter_html(content), content


def _letter(context: AuditContext, letter_id: int, action: AuditAction, *, unused: str) -> Letter:
    letter = (
        Letter.objects.select_related("patient", "author", "encounter", "sent_by")
        .defer(unused, "encounter__notes")
        .filter(pk=letter_id)
        .first()
    )
    if letter is None:
        not_found(context, "letter", letter_id, action)
        raise LetterNotFound
    check_clinician(context, letter.patient, action, letter)
    return letter


def letter_for_clinician(*, context: AuditContext, letter_id: int) -> LetterPage:
    """One letter with its preview (clinicians). Raises LetterNotFound or AccessRefused,
    both audited."""
    letter = _letter(context, letter_id, AuditAction.READ, unused="pdf")
    _audit(context, AuditAction.READ, letter, letter.patient, f"letter read ({letter.status})")
    if letter.is_sent:
        return LetterPage(letter=letter, preview=letter_body(letter.html), content=None)
    html, content = draft_html(letter)
    return LetterPage(letter=letter, preview=letter_body(html), content=content)


def letter_pdf_for_clinician(*, context: AuditContext, letter_id: int) -> tuple[Letter, bytes]:
    """The letter's PDF: the frozen bytes once sent, else the draft rendered now (marked
    DRAFT). Each download is an audited export."""
    letter = _letter(context, letter_id, AuditAction.EXPORT, unused="html")
    pdf = bytes(letter.pdf) if letter.is_sent else render_letter_pdf(draft_html(letter)[0])
    _audit(context, AuditAction.EXPORT, letter, letter.patient, f"PDF downloaded ({letter.status})")
    return letter, pdf


# The patient's own copies


def _own_copy(context: AuditContext, letter: Letter) -> bool:
    actor = context.actor
    if actor is None:
        return False
    if getattr(actor, "role", None) != Role.PATIENT:
        return False
    if not access_patient_data(
        actor,
        patient_user_id=letter.patient.user_id,
        category=DataCategory.CLINICAL,
        access=Access.READ,
    ):
        return False
    return letter.is_sent and letter.copy_to_patient


def my_letters(*, context: AuditContext, patient: Patient) -> list[Letter]:
    """The signed-in patient's letters: those sent with a copy to them, newest first,
    without their text (one query, one audit entry). Empty for anyone but that patient."""
    actor = context.actor
    if actor is None or actor.role != Role.PATIENT or patient.user_id != actor.pk:
        return []
    letters = list(
        Letter.objects.filter(patient=patient, status=LetterStatus.SENT, copy_to_patient=True)
        .select_related("author", "encounter__site")
        .defer("html", "pdf", "plan", "comments", "addressees", "encounter__notes")
        .order_by("-sent_at", "-pk")[:LETTERS_SHOWN]
    )
    _listed(context, patient, letters, "own copies")
    return letters


def _my_letter(
    context: AuditContext, letter_id: int, action: AuditAction, *, unused: str
) -> Letter:
    letter = Letter.objects.select_related("patient").defer(unused).filter(pk=letter_id).first()
    if letter is None or not _own_copy(context, letter):
        patient = letter.patient if letter is not None else None
        _audit(context, action, letter, patient, "not the patient's own copy", allowed=False)
        raise AccessRefused(reveal=False)
    return letter


def my_letter(*, context: AuditContext, letter_id: int) -> Letter:
    """The patient's own sent copy, as sent. AccessRefused (404) otherwise, audited."""
    letter = _my_letter(context, letter_id, AuditAction.READ, unused="pdf")
    _audit(context, AuditAction.READ, letter, letter.patient, "letter read (own copy)")
    return letter


def my_letter_pdf(*, context: AuditContext, letter_id: int) -> tuple[Letter, bytes]:
    """The PDF of the patient's own sent copy, as sent; an audited export."""
    letter = _my_letter(context, letter_id, AuditAction.EXPORT, unused="html")
    _audit(context, AuditAction.EXPORT, letter, letter.patient, "PDF downloaded (own copy)")
    return letter, bytes(letter.pdf)
