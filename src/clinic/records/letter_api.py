"""Clinic letters over the JSON API: for clinicians, start one from a signed encounter, edit the
draft, send it, download its PDF; for the patient, their own sent copies under /me/. Handlers
parse and call letters.py and letter_selectors.py, which check access and audit every read,
write and download (channel API); records/record_api.py maps their refusals onto the one
error shape. Each call's declared answers are the ones it gives (EVERY_CALL, and its own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.security import django_auth
from pydantic import Strict

from clinic.records import encounter_selectors, letter_selectors, letters
from clinic.records import selectors as records_selectors
from clinic.records.api_support import (
    INVALID,
    NOT_FOUND,
    ApiProblem,
    ErrorOut,
    IsoDatetime,
    StrictBool,
    idempotent,
)
from clinic.records.api_support import api_context as _context
from clinic.records.letter_views import pdf_response
from clinic.records.letters import Addressing
from clinic.records.models import Letter
from clinic.records.record_api import answered_all, stale, stale_as_409, version

router = Router(tags=["letters"], auth=django_auth)

ALL_OR_NONE = "send to_gp, to_referrer and copy_to_patient together, or none for the defaults"
ADDRESSING = ("to_gp", "to_referrer", "copy_to_patient")
# Downloads are attachments that no browser or proxy keeps (letter_views.pdf_response).
PDF_ANSWER: dict[int, Any] = {
    200: {
        "description": "The PDF (Content-Disposition: attachment; Cache-Control: no-store).",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    }
}
SIGNED_OUT = "Not signed in."
TWO_FACTOR = (
    "Two-factor sign-in not completed (staff, or a patient who turned it on): complete it in "
    "the browser first."
)
TWO_FACTOR_OR_NOT_AUTHOR = TWO_FACTOR + " Or you are not the draft's author."
HIDDEN = (
    "No such letter or encounter, or not one you may see: a letter is asked for by an id, "
    "so whether it exists is not told."
)
NO_RECORD = "You have no patient record of your own."
Plan = Annotated[str, Strict(), Field(max_length=letters.PLAN_MAX_LENGTH)]
Comments = Annotated[str, Strict(), Field(max_length=letters.COMMENTS_MAX_LENGTH)]


class SignedOutOut(Schema):
    detail: str


# What every letter call can answer besides its own codes: 401 signed out (django-ninja's
# answer, without "errors"), 403 before the two-factor sign-in (accounts/middleware.py), 404
# an unknown id or one hidden from the caller (letters.check_clinician never reveals).
EVERY_CALL: dict[int, Any] = {401: SignedOutOut, 403: ErrorOut, 404: ErrorOut}


def _described(
    forbidden: str = TWO_FACTOR, hidden: str = HIDDEN, *, answers: dict[int, Any] | None = None
) -> dict[str, Any]:
    """``openapi_extra`` saying what EVERY_CALL's codes mean for a call (``forbidden`` its
    403, ``hidden`` its 404), with ``answers`` (such as PDF_ANSWER) besides."""
    meanings = {401: SIGNED_OUT, 403: forbidden, 404: hidden}
    responses: dict[int, Any] = {code: {"description": text} for code, text in meanings.items()}
    return {"responses": responses | (answers or {})}


class AddresseeOut(Schema):
    role: str
    name: str
    organisation: str
    address: str
    email: str


class LetterSummaryOut(Schema):
    id: int
    encounter_id: int
    patient_id: int
    status: Literal["draft", "sent"]
    to_gp: bool
    to_referrer: bool
    copy_to_patient: bool
    author: str
    created_at: datetime
    updated_at: str = Field(description="Send back exactly as received when saving or sending.")
    sent_at: datetime | None


class LetterOut(LetterSummaryOut):
    plan: str
    comments: str
    sent_to: list[AddresseeOut] = Field(
        description="The addressees as recorded when it was sent (empty for a draft)."
    )


class LetterStartIn(Schema):
    to_gp: StrictBool | None = Field(None, description="All three, or none for the defaults.")
    to_referrer: StrictBool | None = None
    copy_to_patient: StrictBool | None = None


class LetterIn(Schema):
    to_gp: StrictBool
    to_referrer: StrictBool
    copy_to_patient: StrictBool
    plan: Plan
    comments: Comments = ""
    updated_at: IsoDatetime = Field(description="The letter's updated_at as last read.")


class SendIn(Schema):
    updated_at: IsoDatetime = Field(
        description="The updated_at of the letter as read: a changed letter is not sent unseen."
    )


class MyLetterSummaryOut(Schema):
    id: int
    sent_at: datetime | None
    author: str
    site: str


class MyLetterOut(Schema):
    id: int
    sent_at: datetime | None
    html: str = Field(description="The letter as sent: an HTML document, its values escaped.")


def _summary(letter: Letter) -> dict[str, Any]:
    return {
        "id": letter.pk,
        "encounter_id": letter.encounter_id,
        "patient_id": letter.patient_id,
        "status": letter.status,
        "to_gp": letter.to_gp,
        "to_referrer": letter.to_referrer,
        "copy_to_patient": letter.copy_to_patient,
        "author": letter.author.full_name,
        "created_at": letter.created_at,
        "updated_at": version(letter),
        "sent_at": letter.sent_at,
    }


def _letter(letter: Letter) -> dict[str, Any]:
    sent_to = letter.addressees if letter.is_sent and isinstance(letter.addressees, list) else []
    values = _summary(letter) | {
        "plan": letter.plan,
        "comments": letter.comments,
        "sent_to": [a for a in sent_to if isinstance(a, dict)],
    }
    return LetterOut(**values).model_dump(mode="json")


def _stale(letter_id: int) -> ApiProblem:
    return stale(Letter, pk=letter_id)


# For clinicians


@router.get(
    "/encounters/{encounter_id}/letters",
    response={200: list[LetterSummaryOut], **EVERY_CALL},
    summary="An encounter's letters, newest first, without their text (clinicians)",
    openapi_extra=_described(),
)
def list_letters(request: HttpRequest, encounter_id: int) -> list[dict[str, Any]]:
    context = _context(request)
    with answered_all():
        encounter = encounter_selectors.encounter_for_clinician(
            context=context, encounter_id=encounter_id
        )
    listed = letter_selectors.letters_of_encounter(context=context, encounter=encounter)
    return [_summary(letter) for letter in listed]


def _addressing(payload: LetterStartIn) -> Addressing | None:
    chosen = [getattr(payload, name) for name in ADDRESSING]
    if all(value is None for value in chosen):
        return None
    missing = [name for name, value in zip(ADDRESSING, chosen, strict=True) if value is None]
    if missing:
        raise ApiProblem(422, INVALID, [(name, "body", ALL_OR_NONE) for name in missing])
    return Addressing(
        payload.to_gp is True, payload.to_referrer is True, payload.copy_to_patient is True
    )


@router.post(
    "/encounters/{encounter_id}/letters",
    response={200: LetterOut, 201: LetterOut, **EVERY_CALL, 409: ErrorOut, 422: ErrorOut},
    summary="Start a letter about a signed encounter (any clinician; Idempotency-Key supported)",
    description="Addressed as sent, or by default to the GP (with the patient's consent), the "
    "referrer and a copy to the patient, as recorded. Your open draft about the encounter is "
    "answered 200 instead of a second one made; a draft encounter is 409.",
    openapi_extra=_described(),
)
def start_letter(request: HttpRequest, encounter_id: int, payload: LetterStartIn) -> Any:
    def run() -> tuple[int, dict[str, Any]]:
        addressing = _addressing(payload)
        with answered_all():
            letter, created = letters.letter_start(
                context=_context(request), encounter_id=encounter_id, addressing=addressing
            )
        return (201 if created else 200), _letter(letter)

    return idempotent(request, run)


@router.get(
    "/letters/{letter_id}",
    response={200: LetterOut, **EVERY_CALL},
    summary="One letter (clinicians)",
    openapi_extra=_described(),
)
def get_letter(request: HttpRequest, letter_id: int) -> dict[str, Any]:
    with answered_all():
        page = letter_selectors.letter_for_clinician(context=_context(request), letter_id=letter_id)
    return _letter(page.letter)


@router.put(
    "/letters/{letter_id}",
    response={200: LetterOut, **EVERY_CALL, 409: ErrorOut, 422: ErrorOut},
    summary="Save a draft's addressees, plan and comments (its author; 409 if saved since)",
    openapi_extra=_described(TWO_FACTOR_OR_NOT_AUTHOR),
)
def save_letter(request: HttpRequest, letter_id: int, payload: LetterIn) -> dict[str, Any]:
    with answered_all(), stale_as_409({letters.STALE}, lambda: _stale(letter_id)):
        letter = letters.letter_update(
            context=_context(request),
            letter_id=letter_id,
            plan=payload.plan,
            comments=payload.comments,
            addressing=Addressing(payload.to_gp, payload.to_referrer, payload.copy_to_patient),
            expected_updated_at=payload.updated_at,
        )
    return _letter(letter)


@router.post(
    "/letters/{letter_id}/send",
    response={200: LetterOut, **EVERY_CALL, 409: ErrorOut, 422: ErrorOut},
    summary="Send a draft as last read (its author): its addressees, HTML and PDF are frozen",
    description="409 when it was changed since the updated_at sent, or was sent already.",
    openapi_extra=_described(TWO_FACTOR_OR_NOT_AUTHOR),
)
def send_letter(request: HttpRequest, letter_id: int, payload: SendIn) -> dict[str, Any]:
    changed = stale_as_409({letters.CHANGED_SINCE_SHOWN}, lambda: _stale(letter_id))
    with answered_all(), changed:
        letter = letters.letter_send(
            context=_context(request), letter_id=letter_id, expected_updated_at=payload.updated_at
        )
    return _letter(letter)


@router.get(
    "/letters/{letter_id}/pdf",
    response=EVERY_CALL,
    summary="The letter's PDF: as sent, or the draft marked DRAFT (an audited download)",
    openapi_extra=_described(answers=PDF_ANSWER),
)
def letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    with answered_all():
        letter, pdf = letter_selectors.letter_pdf_for_clinician(
            context=_context(request), letter_id=letter_id
        )
    suffix = "" if letter.is_sent else "-draft"
    return pdf_response(pdf, filename=f"letter-{letter.pk}{suffix}.pdf")


# The patient's own copies


@router.get(
    "/me/letters",
    response={200: list[MyLetterSummaryOut], **EVERY_CALL},
    summary="The signed-in patient's letters: those sent with a copy to them",
    openapi_extra=_described(hidden=NO_RECORD),
)
def my_letters(request: HttpRequest) -> list[dict[str, Any]]:
    context = _context(request)
    with answered_all():
        patient = records_selectors.patient_own_record(context=context)
    if patient is None:
        raise ApiProblem(404, NOT_FOUND)
    listed = letter_selectors.my_letters(context=context, patient=patient)
    return [
        {
            "id": letter.pk,
            "sent_at": letter.sent_at,
            "author": letter.author.full_name,
            "site": letter.encounter.site.name,
        }
        for letter in listed
    ]


@router.get(
    "/me/letters/{letter_id}",
    response={200: MyLetterOut, **EVERY_CALL},
    summary="One of the signed-in patient's letters, as sent",
    openapi_extra=_described(),
)
def my_letter(request: HttpRequest, letter_id: int) -> dict[str, Any]:
    with answered_all():
        letter = letter_selectors.my_letter(context=_context(request), letter_id=letter_id)
    return {"id": letter.pk, "sent_at": letter.sent_at, "html": letter.html}


@router.get(
    "/me/letters/{letter_id}/pdf",
    response=EVERY_CALL,
    summary="The PDF of one of the signed-in patient's letters, as sent",
    openapi_extra=_described(answers=PDF_ANSWER),
)
def my_letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    with answered_all():
        letter, pdf = letter_selectors.my_letter_pdf(context=_context(request), letter_id=letter_id)
    return pdf_response(pdf, filename=f"letter-{letter.pk}.pdf")
