"""The symptom self-check form: urgent signs first, then one question per symptom."""

from __future__ import annotations

from typing import Any

from django import forms

from clinic.forms import AccessibleFormMixin
from dystonia.selfcheck import QUESTIONS, URGENT_SIGNS, Answer

ANSWER_CHOICES = [
    (Answer.YES.value, "Yes"),
    (Answer.NO.value, "No"),
    (Answer.NOT_SURE.value, "Not sure"),
]
PLEASE_ANSWER = "Please answer this question (choose Not sure if you are unsure)."


class SelfCheckForm(AccessibleFormMixin, forms.Form):
    """Urgent signs (tick any you have now) and the symptom questions (yes, no, not sure)."""

    urgent = forms.MultipleChoiceField(
        label="Do you have any of these now?",
        required=False,
        choices=[(sign.id, sign.text) for sign in URGENT_SIGNS],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question.id] = forms.ChoiceField(
                label=question.text,
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": PLEASE_ANSWER, "invalid_choice": PLEASE_ANSWER},
            )

    def document(self) -> dict[str, object]:
        """The answers as the core reads them; call after ``is_valid()``."""
        data = self.cleaned_data
        return {q.id: data[q.id] for q in QUESTIONS} | {"urgent": list(data["urgent"])}
