"""Letter pages. For clinicians: start a letter from a signed encounter, edit the draft beside
its preview, download its PDF (a draft's marked DRAFT), send it after a confirmation. For the
patient (/my/): read their own sent copies and download their PDF. The services and
selectors check access and audit every read and write (records/letters.py,
letter_selectors.py); a refused save shows the page again with the writer's text kept."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import alerts, encounter_selectors, letter_selectors, letters
from clinic.records.access import AccessRefused
from clinic.records.encounters import EncounterNotFound
from clinic.records.letter_document import letter_body
from clinic.records.letter_forms import (
    OUT_OF_DATE,
    LetterAddressingForm,
    LetterEditForm,
    LetterSendForm,
)
from clinic.records.letters import LetterNotFound, LetterRefused
from clinic.records.models import Encounter, Letter

STARTED = "Letter started. Write the plan, check the preview, then send it."
OPENED = "You already have a draft letter about this encounter: here it is."
SAVED = "Letter saved. It stays a draft, which only you can change, until you send it."
SENT = "Letter sent. It is kept exactly as sent."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _encounter(request: HttpRequest, encounter_id: int) -> Encounter:
    try:
        return encounter_selectors.encounter_for_clinician(
            context=_context(request), encounter_id=encounter_id
        )
    except EncounterNotFound:
        raise Http404("No such encounter") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _page(request: HttpRequest, letter_id: int) -> letter_selectors.LetterPage:
    try:
        return letter_selectors.letter_for_clinician(context=_context(request), letter_id=letter_id)
    except LetterNotFound:
        raise Http404("No such letter") from None
    except AccessRefused as error:
        raise error.page_error() from None


def _place(refusal: LetterRefused, form: LetterAddressingForm) -> str:
    """Put a refusal beside its field when the form has it; else return it for the top."""
    if refusal.field in form.fields:
        form.add_error(refusal.field, refusal.message)
        return ""
    return refusal.message


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    """A PDF to save, never kept by a browser or proxy cache; the name carries no patient."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def letter_new(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """Choose whom a letter about a signed encounter goes to, then start it (any clinician)."""
    encounter = _encounter(request, encounter_id)
    patient = encounter.patient
    if request.method == "POST":
        form = LetterAddressingForm(request.POST)
    else:
        form = LetterAddressingForm(initial=vars(letters.default_addressing(patient)))
    refusal, status = "", 200
    if not encounter.is_signed:
        refusal, status = letters.ENCOUNTER_NOT_SIGNED, 409
    elif form.is_bound and form.is_valid():
        try:
            letter, created = letters.letter_start(
                context=_context(request), encounter_id=encounter_id, addressing=form.addressing()
            )
        except LetterNotFound:
            raise Http404("No such encounter") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except LetterRefused as problem:
            refusal, status = _place(problem, form), problem.status
        else:
            messages.success(request, STARTED if created else OPENED)
            return redirect("records:letter-detail", letter_id=letter.pk)
    elif form.is_bound:
        status = 400
    page = {
        "encounter": encounter,
        "patient": patient,
        "form": form,
        "refusal": refusal,
        "alerts": alerts.active_alerts(patient),
    }
    return render(request, "records/letter_new.html", page, status=status)


def _edit_form(
    letter: Letter, form: LetterEditForm | None, refusal: LetterRefused | None
) -> tuple[LetterEditForm, str, bool]:
    """The form to show with a draft, the message for the top, and whether the letter was
    saved elsewhere meanwhile (then the saved text is shown beside the writer's, and the form
    carries the current version, so saving again is a choice made with both in view)."""
    version = letter.updated_at.isoformat()
    if form is None:
        initial = {
            "to_gp": letter.to_gp,
            "to_referrer": letter.to_referrer,
            "copy_to_patient": letter.copy_to_patient,
            "plan": letter.plan,
            "comments": letter.comments,
            "updated_at": version,
        }
        return LetterEditForm(initial=initial), "", False
    if refusal is not None and refusal.message == letters.STALE:
        data = {**dict(form.data.items()), "updated_at": version}
        fresh = LetterEditForm(data)
        fresh.is_valid()
        fresh.add_error(None, letters.STALE)
        return fresh, "", True
    if refusal is not None:
        return form, _place(refusal, form), False
    return form, "", False


def _detail(
    request: HttpRequest,
    letter_id: int,
    *,
    form: LetterEditForm | None = None,
    refusal: LetterRefused | None = None,
    status: int = 200,
) -> HttpResponse:
    page = _page(request, letter_id)
    letter = page.letter
    context: dict[str, object] = {
        "page": page,
        "letter": letter,
        "encounter": letter.encounter,
        "patient": letter.patient,
        "refusal": refusal.message if refusal else "",
        "alerts": alerts.active_alerts(letter.patient),
    }
    if not letter.is_sent and letter.author_id == request.user.pk:
        context["form"], context["refusal"], context["conflict"] = _edit_form(letter, form, refusal)
        return render(request, "records/letter_edit.html", context, status=status)
    if form is not None:  # sent meanwhile, or not theirs: keep what they wrote to copy
        context["unsaved"] = form.data.get("plan", "")
    return render(request, "records/letter_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def letter_detail(request: HttpRequest, letter_id: int) -> HttpResponse:
    """One letter with its preview. Its author edits the draft here ("Save and send" goes
    on to the confirmation); others, and everyone once it is sent, read it."""
    if request.method == "GET":
        return _detail(request, letter_id)
    form = LetterEditForm(request.POST)
    if not form.is_valid():
        return _detail(request, letter_id, form=form, status=400)
    try:
        letters.letter_update(
            context=_context(request),
            letter_id=letter_id,
            plan=form.cleaned_data["plan"],
            comments=form.cleaned_data["comments"],
            addressing=form.addressing(),
            expected_updated_at=form.cleaned_data["updated_at"],
        )
    except LetterNotFound:
        raise Http404("No such letter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except LetterRefused as refusal:
        return _detail(request, letter_id, form=form, refusal=refusal, status=refusal.status)
    if request.POST.get("then") == "send":
        return redirect("records:letter-send", letter_id=letter_id)
    messages.success(request, SAVED)
    return redirect("records:letter-detail", letter_id=letter_id)


@login_required
@require_safe
def letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The letter's PDF (clinicians): as sent, or the draft marked DRAFT."""
    try:
        letter, pdf = letter_selectors.letter_pdf_for_clinician(
            context=_context(request), letter_id=letter_id
        )
    except LetterNotFound:
        raise Http404("No such letter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    suffix = "" if letter.is_sent else "-draft"
    return pdf_response(pdf, filename=f"letter-{letter.pk}{suffix}.pdf")


def _send_page(
    request: HttpRequest, letter_id: int, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    page = _page(request, letter_id)
    letter = page.letter
    context = {
        "page": page,
        "letter": letter,
        "encounter": letter.encounter,
        "patient": letter.patient,
        "form": LetterSendForm(initial={"updated_at": letter.updated_at.isoformat()}),
        "refusal": refusal,
        "can_send": not letter.is_sent and letter.author_id == request.user.pk,
        "alerts": alerts.active_alerts(letter.patient),
    }
    return render(request, "records/letter_send.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def letter_send(request: HttpRequest, letter_id: int) -> HttpResponse:
    """Confirm, then send the letter as shown: its addressees, HTML and PDF are frozen."""
    if request.method == "GET":
        return _send_page(request, letter_id)
    form = LetterSendForm(request.POST)
    if not form.is_valid():
        return _send_page(request, letter_id, refusal=OUT_OF_DATE, status=400)
    try:
        letters.letter_send(
            context=_context(request),
            letter_id=letter_id,
            expected_updated_at=form.cleaned_data["updated_at"],
        )
    except LetterNotFound:
        raise Http404("No such letter") from None
    except AccessRefused as error:
        raise error.page_error() from None
    except LetterRefused as refusal:
        return _send_page(request, letter_id, refusal=refusal.message, status=refusal.status)
    messages.success(request, SENT)
    return redirect("records:letter-detail", letter_id=letter_id)


# The patient's own copies (/my/)


@login_required
@require_safe
def my_letter(request: HttpRequest, letter_id: int) -> HttpResponse:
    """A letter sent with a copy to the signed-in patient, as it was sent."""
    try:
        letter = letter_selectors.my_letter(context=_context(request), letter_id=letter_id)
    except AccessRefused:
        raise Http404("No such letter") from None
    page = {"letter": letter, "body": letter_body(letter.html)}
    return render(request, "records/my_letter.html", page)


@login_required
@require_safe
def my_letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    """The PDF of the patient's own copy, as sent."""
    try:
        letter, pdf = letter_selectors.my_letter_pdf(context=_context(request), letter_id=letter_id)
    except AccessRefused:
        raise Http404("No such letter") from None
    return pdf_response(pdf, filename=f"letter-{letter.pk}.pdf")
