"""The form that records an allergy or alert; the kinds offered are those the user may add."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from clinic.records import alerts
from clinic.records.models import AlertKind


class AlertForm(AccessibleFormMixin, forms.Form):
    """The kind of alert, and what it is (required for an allergy or "other")."""

    kind = forms.ChoiceField(
        label="Kind of alert",
        error_messages={"invalid_choice": alerts.UNKNOWN_KIND, "required": alerts.UNKNOWN_KIND},
    )
    detail = forms.CharField(
        label="Detail",
        required=False,
        max_length=alerts.DETAIL_MAX_LENGTH,
        error_messages={"max_length": alerts.DETAIL_TOO_LONG},
        help_text="For an allergy, the substance and the reaction, for example "
        "\u201cPenicillin: rash\u201d. At most 200 characters.",
    )

    def __init__(self, *args: Any, kinds: list[AlertKind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Choose")] + [(k.value, k.label) for k in kinds]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("kind") in alerts.NEEDS_DETAIL and not data.get("detail"):
            self.add_error("detail", alerts.DETAIL_REQUIRED)
        return data
