"""Recall forms: the list's filters, adding a recall, recording a contact attempt, closing."""

from __future__ import annotations

import datetime as dt

from django import forms

from clinic.directory.models import Practitioner, Service, Site
from clinic.forms import AccessibleFormMixin
from clinic.scheduling.availability import local_today
from clinic.scheduling.models import RecallContact, RecallStatus
from clinic.scheduling.recalls import TEXT_MAX_LENGTH, TEXT_TOO_LONG

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
FILTER_DATE_RANGE = "Choose a date within three years of today."
ALL_STATUSES = "all"
PAGE_MAX = 10_000


def _date_field(label: str, *, required: bool, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=help_text,
    )


def _text_field(label: str, *, required: bool, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX_LENGTH,
        help_text=help_text,
        error_messages={"max_length": TEXT_TOO_LONG},
    )


class RecallFilterForm(AccessibleFormMixin, forms.Form):
    """The recall list: who is due for what, where, by when."""

    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Every site",
    )
    practitioner = forms.ModelChoiceField(
        label="Practitioner",
        queryset=Practitioner.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="Everyone",
    )
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(schedule__isnull=False),
        to_field_name="slug",
        required=False,
        empty_label="Every service",
    )
    due_by = _date_field("Due by", required=False, help_text="Due on or before this date.")
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[*RecallStatus.choices, (ALL_STATUSES, "Any status")],
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=PAGE_MAX, widget=forms.HiddenInput
    )

    def clean_due_by(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("due_by")
        if day is not None and abs((day - local_today()).days) > 3 * 365:
            raise forms.ValidationError(FILTER_DATE_RANGE)
        return day

    def clean_status(self) -> str:
        status = self.cleaned_data.get("status") or RecallStatus.OPEN
        return "" if status == ALL_STATUSES else status


class RecallForm(AccessibleFormMixin, forms.Form):
    """Add a patient to the recall list."""

    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.filter(schedule__isnull=False),
        to_field_name="slug",
        empty_label=None,
    )
    due_by = _date_field(
        "Due by", required=True, help_text="The date by which the patient should be seen."
    )
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any site",
    )
    practitioner = forms.ModelChoiceField(
        label="Practitioner",
        queryset=Practitioner.objects.filter(is_active=True),
        to_field_name="slug",
        required=False,
        empty_label="Anyone who provides the service",
    )
    reason = _text_field(
        "Reason", required=False, help_text="For example: re-injection 12 weeks after toxin."
    )


class RecallContactForm(AccessibleFormMixin, forms.Form):
    """One attempt to reach the patient."""

    method = forms.ChoiceField(
        label="How", choices=RecallContact.Method.choices, widget=forms.RadioSelect
    )
    outcome = forms.ChoiceField(label="Outcome", choices=RecallContact.Outcome.choices)
    note = _text_field("Note", required=False, help_text="At most 200 characters.")


class RecallCloseForm(AccessibleFormMixin, forms.Form):
    """Close a recall by hand."""

    reason = _text_field("Why close it?", required=True)
