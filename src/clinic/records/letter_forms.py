"""Letter forms: whom it goes to, the plan and comments, and sending. They check the shape of
the input; the rules (signed encounter, consent, author, sent or not) are the services'
(records/letters.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from clinic.forms import AccessibleFormMixin
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.letters import (
    COMMENTS_MAX_LENGTH,
    COMMENTS_TOO_LONG,
    PLAN_MAX_LENGTH,
    PLAN_TOO_LONG,
    Addressing,
)

OUT_OF_DATE = "This page is out of date. Reload it and try again."


def _text_field(label: str, *, limit: int, too_long: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=limit,
        help_text=help_text,
        error_messages={"max_length": too_long, "null_characters_not_allowed": NUL_CHARACTER},
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
    )


class LetterAddressingForm(AccessibleFormMixin, forms.Form):
    """Whom the letter goes to (each is checked against the record by the service)."""

    to_gp = forms.BooleanField(label="To the GP", required=False)
    to_referrer = forms.BooleanField(label="To the referrer", required=False)
    copy_to_patient = forms.BooleanField(label="Copy to the patient", required=False)

    def addressing(self) -> Addressing:
        """After ``is_valid()``."""
        data = self.cleaned_data
        return Addressing(
            to_gp=bool(data.get("to_gp")),
            to_referrer=bool(data.get("to_referrer")),
            copy_to_patient=bool(data.get("copy_to_patient")),
        )


class _VersionedMixin(forms.Form):
    """Carries the ``updated_at`` of the letter as the writer saw it."""

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


class LetterEditForm(_VersionedMixin, LetterAddressingForm):
    """A draft's addressees, plan and comments."""

    plan = _text_field(
        "Plan",
        limit=PLAN_MAX_LENGTH,
        too_long=PLAN_TOO_LONG,
        help_text=f"Needed before sending. At most {PLAN_MAX_LENGTH:,} characters.",
    )
    comments = _text_field(
        "Comments",
        limit=COMMENTS_MAX_LENGTH,
        too_long=COMMENTS_TOO_LONG,
        help_text=f"Anything else to say. At most {COMMENTS_MAX_LENGTH:,} characters.",
    )


class LetterSendForm(AccessibleFormMixin, _VersionedMixin):
    """Sending: the confirmation carries the version of the letter that was shown."""
