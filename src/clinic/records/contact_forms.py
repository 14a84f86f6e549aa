"""The next-of-kin form: who they are to the patient and how to reach them."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records.contacts import NextOfKinDetails
from clinic.records.models import NextOfKin

NEEDS_A_WAY_TO_REACH = "Give a telephone number or an email address, so the unit can reach them."


class NextOfKinForm(AccessibleFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """Name, relationship, telephone, email, and whether to call them in an emergency."""

    class Meta:
        model = NextOfKin
        fields = ("name", "relationship", "phone", "email", "is_emergency_contact")
        labels = {
            "name": "Full name",
            "relationship": "Relationship to the patient",
            "phone": "Telephone",
            "email": "Email address",
            "is_emergency_contact": "Contact in an emergency",
        }
        help_texts = {"relationship": "For example daughter, husband, carer, friend."}

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if "phone" in data and "email" in data and not (data["phone"] or data["email"]):
            self.add_error("phone", NEEDS_A_WAY_TO_REACH)
        return data

    def details(self) -> NextOfKinDetails:
        """The validated values; call after ``is_valid()``."""
        data = self.cleaned_data
        return NextOfKinDetails(**{name: data[name] for name in self.Meta.fields})
