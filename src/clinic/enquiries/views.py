"""Enquiry pages: send a query, ask for a second opinion, the triage inbox, one enquiry
(for its sender or for staff), and documents served through a permission check."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.accounts.models import Role
from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.enquiries import selectors, services
from clinic.enquiries.forms import (
    AssignForm,
    CloseForm,
    InboxFilterForm,
    OpinionForm,
    QueryForm,
    ReplyForm,
    SecondOpinionForm,
)
from clinic.enquiries.models import EnquiryKind
from clinic.enquiries.selfcheck_link import selfcheck_summary
from clinic.enquiries.uploads import UploadRejected, display_name, uploads_check
from clinic.records.access import AccessRefused, access_enquiry_clinical, access_enquiry_inbox

logger = logging.getLogger(__name__)

NO_RECORD = (
    "Your account is not linked to a patient record yet, so you cannot ask for a second "
    "opinion online. Please telephone one of our sites, or send us a query."
)
MESSAGE_SENT = "Your message has been sent."
ASSIGNED = "Assigned."
ENQUIRY_CLOSED = "Closed."
OPINION_SAVED = "The opinion has been saved and the patient told it is ready."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


@require_http_methods(["GET", "POST"])
def query_new(request: HttpRequest) -> HttpResponse:
    """Anyone sends a query. Self-check answers come along in a POSTed signed token (never in
    the URL): a POST of the token alone, from the self-check result page, shows the empty
    form with the answers; the query itself is a POST with the token and the form."""
    token = request.POST.get("selfcheck", "") if request.method == "POST" else ""
    summary = selfcheck_summary(token)
    user = request.user
    initial = {}
    if user.is_authenticated:
        initial = {"sender_name": user.full_name, "sender_email": user.email}
    if summary:
        initial["topic"] = "symptoms"
    sending = request.method == "POST" and "sender_name" in request.POST
    form = QueryForm(request.POST if sending else None, initial=initial)
    status = 400 if sending else 200
    if sending and form.is_valid():
        data = form.cleaned_data
        details = services.QueryDetails(
            sender_name=data["sender_name"],
            sender_email=data["sender_email"],
            sender_phone=data["sender_phone"],
            topic=data["topic"],
            message=data["message"],
            selfcheck_summary=summary,
        )
        try:
            enquiry = services.query_submit(context=_context(request), details=details)
        except services.RateLimited as refusal:
            form.add_error(None, str(refusal))
            status = 429
        except services.EnquiryRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            return render(request, "enquiries/sent.html", {"enquiry": enquiry})
    context = {"form": form, "selfcheck_summary": summary, "selfcheck": token if summary else ""}
    return render(request, "enquiries/query_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def second_opinion_new(request: HttpRequest) -> HttpResponse:
    """A signed-in patient asks for a second opinion and uploads their documents."""
    if request.user.role != Role.PATIENT:  # type: ignore[union-attr]
        raise PermissionDenied
    has_record = selectors.has_patient_record(user=request.user)  # type: ignore[arg-type]
    if request.method == "GET" and not has_record:
        # Said before they fill the form in; a POST is refused (and audited) by the service.
        return render(
            request, "enquiries/second_opinion_form.html", {"no_record": NO_RECORD}, status=404
        )
    form = SecondOpinionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            uploads = uploads_check(data["documents"])
            enquiry = services.second_opinion_submit(
                context=_context(request),
                details=services.SecondOpinionDetails(
                    question=data["question"],
                    current_diagnosis=data["current_diagnosis"],
                    current_treatment=data["current_treatment"],
                    sender_phone=data["sender_phone"],
                ),
                uploads=uploads,
            )
        except UploadRejected as rejected:
            form.add_error("documents", str(rejected))
        except AccessRefused as error:
            raise error.page_error() from None
        else:
            return render(request, "enquiries/sent.html", {"enquiry": enquiry})
    status = 400 if form.is_bound else 200
    return render(request, "enquiries/second_opinion_form.html", {"form": form}, status=status)


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """The triage inbox for reception and clinicians."""
    if not access_enquiry_inbox(request.user):
        try:
            selectors.inbox_for_user(context=_context(request), filters=selectors.InboxFilters())
        except AccessRefused as error:
            raise error.page_error() from None
    form = InboxFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(
            request, "enquiries/inbox.html", {"form": form, "enquiries": None}, status=400
        )
    data = form.cleaned_data if form.is_bound else {}
    filters = selectors.InboxFilters(
        status=data.get("status", ""), kind=data.get("kind", ""), mine=data.get("mine", False)
    )
    enquiries = selectors.inbox_for_user(context=_context(request), filters=filters)
    return render(request, "enquiries/inbox.html", {"form": form, "enquiries": enquiries})


def _detail_context(request: HttpRequest, enquiry_id: int) -> dict[str, object]:
    try:
        enquiry = selectors.enquiry_for_user(context=_context(request), enquiry_id=enquiry_id)
    except selectors.EnquiryNotFound:
        raise Http404("No such enquiry") from None
    except AccessRefused as error:
        raise error.page_error() from None
    is_sender = enquiry.sender_id == request.user.pk
    second_opinion = enquiry.kind == EnquiryKind.SECOND_OPINION
    return {
        "enquiry": enquiry,
        "is_sender": is_sender,
        "can_see_clinical": access_enquiry_clinical(request.user, sender_id=enquiry.sender_id),
        # Each form is shown only when its action would be accepted (services.*_refusal).
        "can_reply": not services.reply_refusal(enquiry),
        "can_assign": not services.assign_refusal(enquiry),
        "can_close": not services.close_refusal(enquiry),
        "can_write_opinion": second_opinion
        and enquiry.assigned_to_id == request.user.pk
        and request.user.role == Role.CLINICIAN  # type: ignore[union-attr]
        and not services.opinion_refusal(enquiry),
        "reply_form": ReplyForm(),
        "assign_form": AssignForm(clinicians_only=second_opinion),
        "close_form": CloseForm(),
        "opinion_form": OpinionForm(initial={"opinion": enquiry.opinion}),
    }


@login_required
@require_safe
def enquiry_detail(request: HttpRequest, enquiry_id: int) -> HttpResponse:
    """One enquiry: its sender sees the thread; staff also triage it."""
    context = _detail_context(request, enquiry_id)
    template = (
        "enquiries/own_detail.html" if context["is_sender"] else "enquiries/staff_detail.html"
    )
    return render(request, template, context)


# Which context flag shows each action's form on the detail page.
_FORM_SHOWN = {
    "reply_form": "can_reply",
    "assign_form": "can_assign",
    "close_form": "can_close",
    "opinion_form": "can_write_opinion",
}


def _action_failed(
    request: HttpRequest,
    enquiry_id: int,
    form_name: str,
    form: Form,
    *,
    refusal: services.EnquiryRefused | None = None,
    field: str | None = None,
) -> HttpResponse:
    """The detail page again, answered 400, with the form's errors; a refusal is shown
    beside its form, or at the top of the page when that form is no longer offered (for
    example on a closed enquiry)."""
    context = _detail_context(request, enquiry_id)
    shown = bool(context[_FORM_SHOWN[form_name]])
    if refusal is not None and shown:
        form.add_error(field, str(refusal))
    elif refusal is not None:
        context["refusal"] = str(refusal)
    elif not shown:
        context["refusal"] = " ".join(str(e) for errors in form.errors.values() for e in errors)
    context[form_name] = form
    template = (
        "enquiries/own_detail.html" if context["is_sender"] else "enquiries/staff_detail.html"
    )
    return render(request, template, context, status=400)


def _triage_action(
    request: HttpRequest,
    enquiry_id: int,
    form_name: str,
    form: Form,
    act: Callable[[AuditContext, dict[str, Any]], object],
    *,
    done: str,
    field: str | None = None,
) -> HttpResponse:
    """One form posted from the enquiry page: validate, call the service, then back to the
    page with a message, or the page again (400) with the form's errors or the refusal."""
    if not form.is_valid():
        return _action_failed(request, enquiry_id, form_name, form)
    try:
        act(_context(request), form.cleaned_data)
    except AccessRefused as error:
        raise error.page_error() from None
    except services.EnquiryRefused as refusal:
        return _action_failed(request, enquiry_id, form_name, form, refusal=refusal, field=field)
    messages.success(request, done)
    return redirect("enquiries:detail", enquiry_id=enquiry_id)


@login_required
@require_POST
def enquiry_reply(request: HttpRequest, enquiry_id: int) -> HttpResponse:
    """Staff reply to the sender, or the sender writes again."""
    return _triage_action(
        request,
        enquiry_id,
        "reply_form",
        ReplyForm(request.POST),
        lambda context, data: services.enquiry_reply(
            context=context, enquiry_id=enquiry_id, body=data["body"]
        ),
        done=MESSAGE_SENT,
        field="body",
    )


@login_required
@require_POST
def enquiry_assign(request: HttpRequest, enquiry_id: int) -> HttpResponse:
    """Assign to a member of staff (a second opinion to a clinician)."""
    return _triage_action(
        request,
        enquiry_id,
        "assign_form",
        AssignForm(request.POST),
        lambda context, data: services.enquiry_assign(
            context=context, enquiry_id=enquiry_id, assignee=data["assignee"]
        ),
        done=ASSIGNED,
        field="assignee",
    )


@login_required
@require_POST
def enquiry_close(request: HttpRequest, enquiry_id: int) -> HttpResponse:
    """Close, with a note for the history."""
    return _triage_action(
        request,
        enquiry_id,
        "close_form",
        CloseForm(request.POST),
        lambda context, data: services.enquiry_close(
            context=context, enquiry_id=enquiry_id, note=data["note"]
        ),
        done=ENQUIRY_CLOSED,
    )


@login_required
@require_POST
def second_opinion_answer(request: HttpRequest, enquiry_id: int) -> HttpResponse:
    """The assigned clinician writes the opinion."""
    return _triage_action(
        request,
        enquiry_id,
        "opinion_form",
        OpinionForm(request.POST),
        lambda context, data: services.second_opinion_answer(
            context=context, enquiry_id=enquiry_id, opinion=data["opinion"]
        ),
        done=OPINION_SAVED,
        field="opinion",
    )


@login_required
@require_safe
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """An uploaded document, for its sender and clinicians; always a download, never shown
    inline, with the type found by content."""
    try:
        document = selectors.document_for_user(context=_context(request), document_id=document_id)
    except selectors.EnquiryNotFound:
        raise Http404("No such document") from None
    except AccessRefused as error:
        raise error.page_error() from None
    try:
        stored = document.file.open("rb")
    except OSError:  # FileNotFoundError included: the row is there, the file is not
        logger.exception("The stored file of document %s cannot be opened", document.pk)
        raise Http404("No such document") from None
    response = FileResponse(
        stored,
        as_attachment=True,
        # The extension always matches the type found by content (older rows included).
        filename=display_name(document.original_name, document.content_type),
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
