"""Open follow-up pages for clinicians: open one for a patient, end one. Reception are
answered 403 and patients 404 (follow_up.check_clinician); both refusals are audited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.directory.models import Service
from clinic.forms import AccessibleFormMixin
from clinic.records.access import AccessRefused
from clinic.records.models import Patient
from clinic.scheduling import follow_up
from clinic.scheduling.models import OpenFollowUp

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
OPENED = "{patient} can now book {service} online from {window}."
ENDED = "The open follow-up is ended."


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _date_field(label: str, help_text: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=help_text,
    )


class FollowUpForm(AccessibleFormMixin, forms.Form):
    """Open a follow-up: the service, and the dates the patient may book between."""

    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(schedule__isnull=False),
        to_field_name="slug",
        empty_label=None,
    )
    earliest_date = _date_field("Earliest date", "The patient can book from this date.")
    ends_on = _date_field("Last date", "The patient can book up to this date.")
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=follow_up.TEXT_MAX_LENGTH,
        error_messages={"max_length": follow_up.TEXT_TOO_LONG},
        help_text="For example: book when the toxin wears off. At most 200 characters.",
    )


class FollowUpEndForm(AccessibleFormMixin, forms.Form):
    """End a follow-up, saying why."""

    reason = forms.CharField(
        label="Why end it?",
        max_length=follow_up.TEXT_MAX_LENGTH,
        error_messages={"max_length": follow_up.TEXT_TOO_LONG},
    )


def _clinician_patient(request: HttpRequest, patient_id: int) -> Patient:
    try:
        return follow_up.patient_for_clinician(context=_context(request), patient_id=patient_id)
    except AccessRefused as error:
        raise error.page_error() from None


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_new(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Let a patient book a service themselves within a window (clinicians)."""
    patient = _clinician_patient(request, patient_id)
    form = FollowUpForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opened = follow_up.follow_up_open(
                context=_context(request),
                patient=patient,
                service=data["service"],
                earliest_date=data["earliest_date"],
                ends_on=data["ends_on"],
                note=data["note"],
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except follow_up.FollowUpRefused as problem:
            if problem.field in form.fields:
                form.add_error(problem.field, problem.message)
            else:
                refusal = problem.message
        else:
            window = follow_up.window_text(opened.earliest_date, opened.ends_on)
            done = OPENED.format(
                patient=patient.full_name, service=opened.service.name, window=window
            )
            messages.success(request, done)
            return redirect("records:patient-detail", patient_id=patient.pk)
    page = {"form": form, "patient": patient, "refusal": refusal}
    return render(
        request, "scheduling/follow_up_form.html", page, status=400 if form.is_bound else 200
    )


def _follow_up_for_clinician(request: HttpRequest, follow_up_id: int) -> OpenFollowUp:
    try:
        return follow_up.follow_up_for_clinician(
            context=_context(request), follow_up_id=follow_up_id
        )
    except AccessRefused as error:
        raise error.page_error() from None


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_end(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    """End an open follow-up before it runs out (clinicians)."""
    found = _follow_up_for_clinician(request, follow_up_id)
    form = FollowUpEndForm(request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            follow_up.follow_up_end(
                context=_context(request),
                follow_up_id=found.pk,
                reason=form.cleaned_data["reason"],
            )
        except follow_up.FollowUpNotFound:
            raise Http404("No such follow-up") from None
        except AccessRefused as error:
            raise error.page_error() from None
        except follow_up.FollowUpRefused as problem:
            if problem.field in form.fields:
                form.add_error(problem.field, problem.message)
            else:
                refusal = problem.message
        else:
            messages.success(request, ENDED)
            return redirect("records:patient-detail", patient_id=found.patient_id)
    page = {
        "form": form,
        "follow_up": found,
        "window": follow_up.window_text(found.earliest_date, found.ends_on),
        "refusal": refusal,
    }
    return render(
        request, "scheduling/follow_up_end.html", page, status=400 if form.is_bound else 200
    )
