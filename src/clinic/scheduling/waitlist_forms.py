"""The waiting-list form: which service, where, and when the patient can come."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from clinic.directory.models import Service, Site
from clinic.forms import AccessibleFormMixin
from clinic.records.models import Patient
from clinic.scheduling.forms import NO_SUCH_PATIENT, REASON_MAX_LENGTH

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class WaitlistJoinForm(AccessibleFormMixin, forms.Form):
    """Join the waiting list (the service's own rules are checked by waitlist.waitlist_join)."""

    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(schedule__isnull=False),
        to_field_name="slug",
        empty_label=None,
        widget=forms.RadioSelect,
    )
    sites = forms.ModelMultipleChoiceField(
        label="Sites you can get to",
        queryset=Site.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked if any site will do.",
    )
    earliest_date = forms.DateField(
        label="From",
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    latest_date = forms.DateField(
        label="Until",
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    earliest_time = forms.TimeField(
        label="Not before (time of day)",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    latest_time = forms.TimeField(
        label="Finished by (time of day)",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    note = forms.CharField(
        label="Anything we should know", required=False, max_length=REASON_MAX_LENGTH
    )
    patient = forms.CharField(label="Patient hospital number", required=False, max_length=20)

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff
        if not staff:
            service_field = self.fields["service"]
            service_field.queryset = service_field.queryset.filter(schedule__bookable_online=True)
            del self.fields["patient"]
        else:
            self.fields["patient"].required = True

    def clean_patient(self) -> Patient | None:
        number = (self.cleaned_data.get("patient") or "").strip()
        patient = Patient.objects.filter(hospital_number__iexact=number).first()
        if patient is None:
            raise forms.ValidationError(NO_SUCH_PATIENT)
        return patient

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first: dt.date | None = data.get("earliest_date")
        last: dt.date | None = data.get("latest_date")
        if first and last and last < first:
            self.add_error("latest_date", "The last date must be on or after the first date.")
        return data


class OfferAnswerForm(forms.Form):
    """Accept, turn down, or ask for more time."""

    answer = forms.ChoiceField(
        choices=[("accept", "Accept"), ("decline", "Turn down"), ("extend", "More time")]
    )
