"""Enquiry forms: a query from anyone, a second-opinion request with documents, and the
triage forms (reply, assign, close, opinion)."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing

from clinic.accounts.models import Role, User
from clinic.enquiries.models import EnquiryKind, EnquiryStatus, EnquiryTopic
from clinic.enquiries.uploads import megabytes
from clinic.forms import AccessibleFormMixin

MESSAGE_MAX_LENGTH = 5000
OPINION_MAX_LENGTH = 20000
STARTED_SALT = "clinic.enquiries.query-started"
# A form shown longer ago than this is refused (a bot could otherwise reuse one token).
STARTED_MAX_AGE_SECONDS = 24 * 3600
TOO_FAST = "Please take a moment to read your message through, then send it again."
NOT_ACCEPTED = "We could not accept this form. Please telephone one of our sites instead."
EXPIRED = (
    "This form was opened more than a day ago, so we could not accept it. Please copy your "
    "message, reload the form and send it again."
)
UPLOAD_HELP = (
    "PDF, PNG or JPEG: clinic letters, scan (MRI or CT) and EMG reports. Up to {files} files, "
    "at most {each} MB each and {total} MB together."
)


class QueryForm(AccessibleFormMixin, forms.Form):
    """Send the unit a query. ``website`` is a trap that people never see; ``started``
    records when the form was shown, since bots post at once."""

    sender_name = forms.CharField(label="Your name", max_length=150)
    sender_email = forms.EmailField(
        label="Email address", max_length=254, help_text="We reply by email."
    )
    sender_phone = forms.CharField(label="Telephone", max_length=30, required=False)
    topic = forms.ChoiceField(label="What is it about?", choices=EnquiryTopic.choices)
    message = forms.CharField(
        label="Your message",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=f"Up to {MESSAGE_MAX_LENGTH} characters. Please do not include bank details.",
    )
    website = forms.CharField(required=False, label="Leave this empty")
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        if not self.is_bound:
            self.initial["started"] = signing.dumps(time.time(), salt=STARTED_SALT)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("website"):
            raise forms.ValidationError(NOT_ACCEPTED, code="trap")
        try:
            started = float(
                signing.loads(
                    data.get("started") or "", salt=STARTED_SALT, max_age=STARTED_MAX_AGE_SECONDS
                )
            )
        except signing.SignatureExpired:
            raise forms.ValidationError(EXPIRED, code="expired") from None
        except (signing.BadSignature, TypeError, ValueError):
            raise forms.ValidationError(NOT_ACCEPTED, code="no-start") from None
        if time.time() - started < settings.QUERY_MIN_SECONDS:
            raise forms.ValidationError(TOO_FAST, code="too-fast")
        return data


class MultipleFileInput(forms.ClearableFileInput):
    """A file input that accepts several files."""

    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files; each is checked by the upload rules, not by name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class SecondOpinionForm(AccessibleFormMixin, forms.Form):
    """A signed-in patient asks for a second opinion."""

    question = forms.CharField(
        label="What would you like a second opinion on?",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    current_diagnosis = forms.CharField(
        label="Your current diagnosis, as you were told it",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    current_treatment = forms.CharField(
        label="Your current treatment (medicines, injections, therapy, surgery)",
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sender_phone = forms.CharField(label="Telephone", max_length=30, required=False)
    documents = MultipleFileField(label="Letters and reports", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form is made, so the text always states the limits in force.
        self.fields["documents"].help_text = UPLOAD_HELP.format(
            files=int(settings.ENQUIRY_UPLOAD_MAX_FILES),
            each=megabytes(int(settings.ENQUIRY_UPLOAD_MAX_BYTES)),
            total=megabytes(int(settings.ENQUIRY_UPLOAD_MAX_TOTAL_BYTES)),
        )


class ReplyForm(AccessibleFormMixin, forms.Form):
    """A message in the thread."""

    body = forms.CharField(
        label="Message", max_length=MESSAGE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 6})
    )


class AssignForm(AccessibleFormMixin, forms.Form):
    """Assign to a member of staff."""

    assignee = forms.ModelChoiceField(
        label="Assign to",
        queryset=User.objects.filter(
            is_active=True, role__in=[Role.RECEPTION, Role.CLINICIAN]
        ).order_by("full_name"),
        empty_label="Choose a person",
    )

    def __init__(self, *args: Any, clinicians_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.label_from_instance = lambda user: f"{user.full_name} ({user.get_role_display()})"
        if clinicians_only:
            field = self.fields["assignee"]
            field.queryset = field.queryset.filter(role=Role.CLINICIAN)
            field.label = "Assign to a clinician"


class CloseForm(AccessibleFormMixin, forms.Form):
    """Close, with a note for the history."""

    note = forms.CharField(label="Note for the history", max_length=200, required=False)


class OpinionForm(AccessibleFormMixin, forms.Form):
    """The clinician's second opinion."""

    opinion = forms.CharField(
        label="Your opinion",
        max_length=OPINION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
    )


class InboxFilterForm(AccessibleFormMixin, forms.Form):
    """Narrow the inbox."""

    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any"), *EnquiryStatus.choices]
    )
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "Any"), *EnquiryKind.choices]
    )
    mine = forms.BooleanField(label="Only those assigned to me", required=False)
