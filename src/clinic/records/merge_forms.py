"""Merge forms: the two hospital numbers, then the reason and confirmations. They check the
shape of the input; the rules (who, which records, what stops a merge) are the service's
(records/merge.py)."""

from __future__ import annotations

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records.merge import (
    NUL_CHARACTER,
    NUMBER_REQUIRED,
    REASON_MAX_LENGTH,
    REASON_REQUIRED,
    REASON_TOO_LONG,
)
from clinic.records.models import Patient

NUMBER_MAX_LENGTH = Patient._meta.get_field("hospital_number").max_length or 20
NUMBER_TOO_LONG = f"A hospital number has at most {NUMBER_MAX_LENGTH} characters."
SAME_PERSON_REQUIRED = "Tick the box to confirm that these two records are the same person."
# Where a service refusal about an input is shown on the choose form.
CHOOSE_FIELDS = {"keep": "keep_number", "duplicate": "duplicate_number"}


def _number_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=NUMBER_MAX_LENGTH,
        error_messages={
            "required": NUMBER_REQUIRED,
            "max_length": NUMBER_TOO_LONG,
            "null_characters_not_allowed": NUL_CHARACTER,
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class MergeChooseForm(AccessibleFormMixin, forms.Form):
    """The two records, by hospital number."""

    keep_number = _number_field(
        "Hospital number of the record to keep", "This record stays in use, with everything."
    )
    duplicate_number = _number_field(
        "Hospital number of the duplicate record",
        "Everything in it moves to the record kept; it is then no longer used.",
    )


class MergeForm(AccessibleFormMixin, forms.Form):
    """The administrator's reason and confirmations."""

    reason = forms.CharField(
        label="Why are these records the same person?",
        max_length=REASON_MAX_LENGTH,
        help_text=(
            f"Kept in the audit trail, for example \u201cregistered twice at reception\u201d. "
            f"At most {REASON_MAX_LENGTH} characters. No clinical details."
        ),
        error_messages={
            "required": REASON_REQUIRED,
            "max_length": REASON_TOO_LONG,
            "null_characters_not_allowed": NUL_CHARACTER,
        },
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    same_person = forms.BooleanField(
        label="I have checked that these two records are the same person",
        error_messages={"required": SAME_PERSON_REQUIRED},
    )
    # Shown only when the dates of birth differ; the service requires it then.
    birth_dates_checked = forms.BooleanField(
        label=(
            "I have checked that the dates of birth differ only by a mistake: this is one person"
        ),
        required=False,
    )
