"""Field builders the treatment forms share. Forms check only the shape of the input, with the
services' messages; the rules are the services', whose refusals the views put beside the field
they name."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.records.encounter_forms import DATE_FORMATS, TIME_FORMATS
from clinic.records.encounters import NUL_CHARACTER
from clinic.records.models import Encounter
from clinic.scheduling.availability import clinic_tz
from clinic.treatment import rules

YES_NO = [("yes", "Yes"), ("no", "No")]
BAD_NUMBER = "Enter a number."
BAD_WHOLE_NUMBER = "Enter a whole number."
BAD_TIME_OF_DAY = "Enter a time of day, for example 14:30."


def text(
    label: str, *, limit: int, required: bool = False, rows: int = 3, help_text: str = ""
) -> forms.CharField:
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": rows, "spellcheck": "true"})
        if rows > 1
        else forms.TextInput(attrs={"spellcheck": "true"})
    )
    return forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        help_text=help_text,
        widget=widget,
        error_messages={
            "required": rules.REQUIRED.format(label=label),
            "max_length": rules.TEXT_TOO_LONG.format(label=label, limit=limit),
            "null_characters_not_allowed": NUL_CHARACTER,
        },
    )


def day(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "invalid": rules.BAD_DATE,
            "required": rules.REQUIRED.format(label=label),
        },
    )


def time_of_day(label: str, *, help_text: str = "") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        input_formats=TIME_FORMATS,
        help_text=help_text,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "invalid": BAD_TIME_OF_DAY,
            "required": rules.REQUIRED.format(label=label),
        },
    )


def choice(
    label: str,
    choices: Any,
    *,
    required: bool = True,
    radio: bool = False,
    help_text: str = "",
    initial: Any = None,
) -> forms.ChoiceField:
    message = rules.BAD_CHOICE.format(label=label)
    return forms.ChoiceField(
        label=label,
        choices=list(choices),
        required=required,
        initial=initial,
        help_text=help_text,
        widget=forms.RadioSelect if radio else forms.Select,
        error_messages={"required": message, "invalid_choice": message},
    )


def yes_no(label: str, *, help_text: str = "") -> forms.ChoiceField:
    """A required yes or no, as radio buttons; ``flag()`` turns it into a bool."""
    message = rules.BAD_FLAG.format(label=label)
    return forms.ChoiceField(
        label=label,
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"required": message, "invalid_choice": message},
    )


def flag(value: str) -> bool:
    return value == "yes"


def yes_no_initial(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def number(
    label: str, *, required: bool = True, help_text: str = "", whole: bool = False
) -> forms.Field:
    """A number in a text box with a numeric keyboard; the service checks its range."""
    attrs = {"inputmode": "numeric" if whole else "decimal"}
    message = BAD_WHOLE_NUMBER if whole else BAD_NUMBER
    errors = {"invalid": message, "required": rules.REQUIRED.format(label=label)}
    if whole:
        return forms.IntegerField(
            label=label,
            required=required,
            help_text=help_text,
            widget=forms.TextInput(attrs=attrs),
            error_messages=errors,
        )
    return forms.DecimalField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
        error_messages=errors,
    )


def encounter_choices(encounters: list[Encounter]) -> list[tuple[str, str]]:
    """The patient's encounters to link a record to (newest first), or none."""
    return [("", "None")] + [
        (
            str(e.pk),
            f"{e.started_at.astimezone(clinic_tz()):%d/%m/%Y %H:%M}, {e.get_kind_display()}",
        )
        for e in encounters
    ]


def encounter_id(value: str) -> int | None:
    return int(value) if value else None
