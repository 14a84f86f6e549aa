"""Booking forms: the search (service, site, date), confirming a slot, cancelling, and the
staff calendars' filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q

from clinic.directory.models import Practitioner, Service, Site
from clinic.forms import AccessibleFormMixin
from clinic.records.models import Patient
from clinic.scheduling.availability import local_today

DATE_IN_PAST = "Choose today or a later date."
DATE_TOO_FAR = "We book up to {days} days ahead. Choose an earlier date."
NO_SUCH_PATIENT = "No patient has that hospital number."
REASON_MAX_LENGTH = 200


class BookingSearchForm(AccessibleFormMixin, forms.Form):
    """Step one: what, where and when."""

    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(schedule__isnull=False),
        to_field_name="slug",
        empty_label=None,
        widget=forms.RadioSelect,
    )
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any site",
    )
    date = forms.DateField(
        label="Date",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty to see the first available time.",
    )
    patient = forms.CharField(label="Patient hospital number", required=False, max_length=20)
    practitioner = forms.ModelChoiceField(
        label="Practitioner",
        queryset=Practitioner.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="Anyone",
    )
    reschedule = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(
        self, *args: Any, staff: bool, follow_up_services: Collection[int] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff
        service_field = self.fields["service"]
        if not staff:
            # Online-bookable services, and those the patient has an open follow-up for.
            service_field.queryset = service_field.queryset.filter(
                Q(schedule__bookable_online=True) | Q(pk__in=follow_up_services)
            )
            del self.fields["patient"]
            del self.fields["practitioner"]
        else:
            self.fields["patient"].required = True

    def clean_date(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("date")
        if day is None:
            return None
        if day < local_today():
            raise forms.ValidationError(DATE_IN_PAST)
        if day > local_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS):
            raise forms.ValidationError(DATE_TOO_FAR.format(days=settings.BOOKING_HORIZON_DAYS))
        return day

    def clean_patient(self) -> Patient | None:
        number = (self.cleaned_data.get("patient") or "").strip()
        if not self.staff:
            return None
        patient = Patient.objects.filter(hospital_number__iexact=number).first()
        if patient is None:
            raise forms.ValidationError(NO_SUCH_PATIENT)
        return patient


class ConfirmForm(AccessibleFormMixin, forms.Form):
    """Step two: the chosen slot, and for staff an overbook reason when it is no longer free."""

    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), to_field_name="slug", widget=forms.HiddenInput
    )
    site = forms.ModelChoiceField(
        queryset=Site.objects.all(), to_field_name="slug", widget=forms.HiddenInput
    )
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True),
        to_field_name="slug",
        widget=forms.HiddenInput,
    )
    start = forms.DateTimeField(
        widget=forms.HiddenInput, input_formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]
    )
    patient = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    reschedule = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    overbook_reason = forms.CharField(
        label="Reason for overbooking",
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="Only if this time is no longer free and the patient must be seen anyway.",
    )


class CancelForm(AccessibleFormMixin, forms.Form):
    """Cancel, saying why."""

    reason = forms.CharField(label="Why are you cancelling?", max_length=REASON_MAX_LENGTH)


class CalendarForm(AccessibleFormMixin, forms.Form):
    """The staff day and week views: site, date, optionally one practitioner."""

    site = forms.ModelChoiceField(
        label="Site", queryset=Site.objects.all(), to_field_name="slug", empty_label=None
    )
    date = forms.DateField(
        label="Date",
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    practitioner = forms.ModelChoiceField(
        label="Practitioner",
        queryset=Practitioner.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="Everyone",
    )

    def clean_date(self) -> dt.date:
        day: dt.date | None = self.cleaned_data.get("date")
        if day is None:
            return local_today()
        if abs((day - local_today()).days) > 3 * 365:
            raise forms.ValidationError("Choose a date within three years of today.")
        return day
