"""Encounter forms: starting one, its notes, signing, an addendum. They check the shape of the
input; the rules (who, when, locked or not) are the services' (records/encounters.py)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from clinic.directory.models import Site
from clinic.forms import AccessibleFormMixin
from clinic.records.encounters import (
    ADDENDUM_MAX_LENGTH,
    ADDENDUM_REQUIRED,
    ADDENDUM_TOO_LONG,
    BAD_KIND,
    NOTES_MAX_LENGTH,
    NOTES_TOO_LONG,
    SITE_REQUIRED,
)
from clinic.records.models import EncounterKind
from clinic.scheduling.availability import clinic_tz

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
OUT_OF_DATE = "This page is out of date. Reload it and try again."
BAD_DATE = "Enter a real date, for example 31/03/2026."
BAD_TIME_OF_DAY = "Enter a time of day, for example 14:30."


def _notes_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=NOTES_MAX_LENGTH,
        help_text=help_text,
        error_messages={"max_length": NOTES_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}),
    )


class EncounterStartForm(AccessibleFormMixin, forms.Form):
    """Start an encounter: its kind, and (without an appointment) where and when."""

    kind = forms.ChoiceField(
        label="Kind of encounter",
        choices=EncounterKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": BAD_KIND, "invalid_choice": BAD_KIND},
    )
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Choose a site",
        error_messages={"required": SITE_REQUIRED, "invalid_choice": SITE_REQUIRED},
    )
    date = forms.DateField(
        label="Date",
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": BAD_DATE},
    )
    time = forms.TimeField(
        label="Time",
        input_formats=TIME_FORMATS,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="When the patient was seen or telephoned (UK time).",
        error_messages={"invalid": BAD_TIME_OF_DAY},
    )
    notes = _notes_field("Notes", "You can save and come back to them until you sign.")
    # One value per form shown: a second submission of the same walk-in form (a double
    # click, the back button) opens the encounter the first one made.
    submission = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, from_appointment: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if from_appointment:  # the appointment says where and when (and is started once)
            for name in ("site", "date", "time", "submission"):
                del self.fields[name]
        else:
            self.fields["submission"].initial = secrets.token_urlsafe(16)
            now = timezone.now().astimezone(clinic_tz())
            self.fields["date"].initial = now.date()
            self.fields["time"].initial = now.time().replace(second=0, microsecond=0)

    def started_at(self) -> datetime | None:
        """The date and time as an aware datetime in the clinic's time zone (after
        ``is_valid()``), or None when the appointment gives it."""
        data = self.cleaned_data
        if "date" not in data:
            return None
        return datetime.combine(data["date"], data["time"], tzinfo=clinic_tz())


class _VersionedForm(AccessibleFormMixin, forms.Form):
    """Carries the ``updated_at`` of the encounter as the writer saw it, so a save made
    elsewhere meanwhile is noticed rather than overwritten."""

    updated_at = forms.CharField(widget=forms.HiddenInput, error_messages={"required": OUT_OF_DATE})

    def clean_updated_at(self) -> datetime:
        value = self.cleaned_data["updated_at"]
        try:
            seen = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(OUT_OF_DATE) from None
        if timezone.is_naive(seen):
            raise forms.ValidationError(OUT_OF_DATE)
        return seen

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # A hidden field's error has nowhere to show beside it: show it for the whole form.
        if "updated_at" in self.errors:
            message = self.errors.pop("updated_at")
            self.add_error(None, message)
        return cleaned


class EncounterNotesForm(_VersionedForm):
    """A draft's notes."""

    notes = _notes_field(
        "Notes", "Saved notes stay a draft, which only you can change, until you sign."
    )


class EncounterSignForm(_VersionedForm):
    """Signing: the confirmation carries the version of the notes that was shown."""


class AddendumForm(AccessibleFormMixin, forms.Form):
    """An addendum to a signed encounter."""

    text = forms.CharField(
        label="Addendum",
        max_length=ADDENDUM_MAX_LENGTH,
        help_text=f"At most {ADDENDUM_MAX_LENGTH:,} characters. It is signed with your name.",
        error_messages={"required": ADDENDUM_REQUIRED, "max_length": ADDENDUM_TOO_LONG},
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
    )
