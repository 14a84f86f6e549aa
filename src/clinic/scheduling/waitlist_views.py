"""Waiting-list pages: joining and leaving, answering an offer from its email link, and
reception's lists of the waiting list and of messages that could not be sent."""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.validators import slug_re
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.directory.models import Service
from clinic.records.access import AccessRefused
from clinic.records.models import Patient
from clinic.scheduling import messaging, waitlist
from clinic.scheduling.waitlist_forms import OfferAnswerForm, WaitlistJoinForm


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


# The audit trail records this path for offer pages instead of the real one, which holds the
# offer's secret token.
OFFER_PATH = "/appointments/offers/[token]/"


def _offer_context(request: HttpRequest) -> AuditContext:
    return replace(_context(request), path=OFFER_PATH)


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_http_methods(["GET"])
def waitlist_list(request: HttpRequest) -> HttpResponse:
    """A patient's own entries; for reception and clinicians, everyone waiting."""
    wanted = request.GET.get("service", "")
    # Only a well-formed slug reaches the database (a NUL byte, say, is a database error).
    service = Service.objects.filter(slug=wanted).first() if slug_re.fullmatch(wanted) else None
    try:
        entries = waitlist.entries_for(_context(request), service=service)
    except AccessRefused as error:
        raise error.page_error() from None
    context = {
        "entries": entries,
        "staff": _user(request).books_for_others,
        "services": Service.objects.filter(schedule__isnull=False),
        "service": service,
    }
    return render(request, "scheduling/waitlist.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def waitlist_join(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    staff = user.books_for_others
    if not staff and user.role != Role.PATIENT:
        raise PermissionDenied
    form = WaitlistJoinForm(request.POST or None, staff=staff)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patient = data["patient"] if staff else Patient.objects.filter(user=user).first()
        if patient is None:
            raise Http404("No patient record is linked to this account")
        try:
            waitlist.waitlist_join(
                context=_context(request),
                request=waitlist.WaitlistRequest(
                    patient=patient,
                    service=data["service"],
                    sites=tuple(data["sites"]),
                    earliest_date=data["earliest_date"],
                    latest_date=data["latest_date"],
                    earliest_time=data["earliest_time"],
                    latest_time=data["latest_time"],
                    note=data["note"],
                ),
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except waitlist.WaitlistProblem as problem:
            form.add_error(None, problem.message)
        else:
            messages.success(
                request,
                "You are on the waiting list. We will email you if an earlier time comes up."
                if not staff
                else f"{patient.full_name} is on the waiting list.",
            )
            return redirect("scheduling:waitlist")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "scheduling/waitlist_join.html", {"form": form}, status=status)


@login_required
@require_POST
def waitlist_withdraw(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        waitlist.waitlist_withdraw(context=_context(request), entry_id=entry_id)
    except AccessRefused as error:
        raise error.page_error() from None
    except waitlist.WaitlistProblem as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, "Taken off the waiting list.")
    return redirect("scheduling:waitlist")


def _offer_page(
    request: HttpRequest, token: str, *, problem: str = "", status: int = 200
) -> HttpResponse:
    try:
        offer = waitlist.offer_for(_offer_context(request), token, action=AuditAction.READ)
    except AccessRefused as error:
        raise error.page_error() from None
    return render(
        request,
        "scheduling/offer.html",
        {
            "offer": offer,
            "token": token,
            "problem": problem,
            "now_open": waitlist.offer_is_open(offer),
        },
        status=status,
    )


ANSWERS = {
    "accept": (waitlist.offer_accept, "Booked. We have emailed you the details."),
    "decline": (waitlist.offer_decline, "You turned the offer down. You are still waiting."),
    "extend": (waitlist.offer_extend, "We will hold it for you a little longer."),
}


@login_required
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """The page an offer's email links to: the time, and accept, turn down or more time."""
    if request.method == "GET":
        return _offer_page(request, token)
    form = OfferAnswerForm(request.POST)
    if not form.is_valid():
        problem = "Choose accept, turn down or more time."
        return _offer_page(request, token, problem=problem, status=400)
    action, done = ANSWERS[form.cleaned_data["answer"]]
    try:
        result = action(context=_offer_context(request), token=token)
    except AccessRefused as error:
        raise error.page_error() from None
    except waitlist.WaitlistProblem as problem:
        return _offer_page(request, token, problem=problem.message, status=409)
    messages.success(request, done)
    if form.cleaned_data["answer"] == "accept":
        return redirect("scheduling:detail", appointment_id=result.pk)
    return redirect("scheduling:offer", token=token)


@login_required
@require_http_methods(["GET"])
def unsent_messages(request: HttpRequest) -> HttpResponse:
    """Reception: emails that failed for good, and those waiting to be tried again."""
    try:
        unsent = messaging.unsent(_context(request))
    except AccessRefused as error:
        raise error.page_error() from None
    return render(request, "scheduling/unsent_messages.html", {"unsent": unsent})


@login_required
@require_POST
def message_retry(request: HttpRequest, message_id: int) -> HttpResponse:
    try:
        messaging.retry_failed(context=_context(request), message_id=message_id)
    except AccessRefused as error:
        raise error.page_error() from None
    except messaging.NotFailed as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, "The message will be sent again.")
    return redirect("scheduling:unsent-messages")
