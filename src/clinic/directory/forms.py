"""The find-a-doctor filter form (GET; it changes nothing, so it needs no CSRF token)."""

from __future__ import annotations

from django import forms

from clinic.directory.models import Service, Site, Specialty
from clinic.directory.selectors import SEARCH_TEXT_MAX_LENGTH, PractitionerFilters
from clinic.forms import AccessibleFormMixin

UNKNOWN_CHOICE = "That is not one of the choices. Pick one from the list."
TEXT_TOO_LONG = f"Search words can be at most {SEARCH_TEXT_MAX_LENGTH} characters."


class FindDoctorForm(AccessibleFormMixin, forms.Form):
    """Narrow the practitioner list by site, specialty, service and words."""

    q = forms.CharField(
        label="Name or condition",
        required=False,
        max_length=SEARCH_TEXT_MAX_LENGTH,
        error_messages={"max_length": TEXT_TOO_LONG},
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any site",
        error_messages={"invalid_choice": UNKNOWN_CHOICE},
    )
    specialty = forms.ModelChoiceField(
        label="Specialty",
        queryset=Specialty.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any specialty",
        error_messages={"invalid_choice": UNKNOWN_CHOICE},
    )
    service = forms.ModelChoiceField(
        label="Service",
        queryset=Service.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any service",
        error_messages={"invalid_choice": UNKNOWN_CHOICE},
    )

    def filters(self) -> PractitionerFilters:
        """The validated filters; call only after ``is_valid()`` returned True."""
        data = self.cleaned_data
        return PractitionerFilters(
            site=data["site"],
            specialty=data["specialty"],
            service=data["service"],
            text=data["q"].strip(),
        )
