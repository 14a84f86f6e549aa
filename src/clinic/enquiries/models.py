"""Queries and second-opinion requests (FHIR Communication and ServiceRequest), their
messages, status history and uploaded documents (FHIR DocumentReference)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse

SENDER_NAME_MAX_LENGTH = 150
SENDER_NETWORK_MAX_LENGTH = 50


class EnquiryKind(models.TextChoices):
    """A query from anyone, or a second-opinion request from a signed-in patient."""

    QUERY = "query", "Query"
    SECOND_OPINION = "second_opinion", "Second opinion"


class EnquiryStatus(models.TextChoices):
    """Where an enquiry is in triage."""

    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class EnquiryTopic(models.TextChoices):
    """What a query is about, for triage."""

    SYMPTOMS = "symptoms", "Symptoms or diagnosis"
    APPOINTMENTS = "appointments", "Appointments"
    TREATMENT = "treatment", "My treatment"
    BOTULINUM_TOXIN = "botulinum_toxin", "Botulinum toxin injections"
    DBS = "dbs", "Deep brain stimulation"
    REFERRAL = "referral", "Referrals and fees"
    OTHER = "other", "Something else"


class Enquiry(models.Model):
    """A query or a second-opinion request, with its sender and triage state."""

    kind = models.CharField(max_length=20, choices=EnquiryKind.choices)
    status = models.CharField(
        max_length=10, choices=EnquiryStatus.choices, default=EnquiryStatus.NEW
    )
    topic = models.CharField(
        max_length=20, choices=EnquiryTopic.choices, default=EnquiryTopic.OTHER
    )
    sender_name = models.CharField(max_length=SENDER_NAME_MAX_LENGTH)
    sender_email = models.EmailField()
    sender_phone = models.CharField(max_length=30, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enquiries",
        help_text="The sender's account when they were signed in.",
    )
    patient = models.ForeignKey(
        "records.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enquiries",
        help_text="The sender's record when they are a known patient.",
    )
    message = models.TextField()
    selfcheck_summary = models.TextField(blank=True)
    # Second opinions only.
    question = models.TextField(blank=True)
    current_diagnosis = models.TextField(blank=True)
    current_treatment = models.TextField(blank=True)
    opinion = models.TextField(blank=True)
    opinion_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opinion_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_enquiries",
    )
    sender_ip = models.GenericIPAddressField(null=True, blank=True)
    sender_network = models.CharField(
        max_length=SENDER_NETWORK_MAX_LENGTH,
        blank=True,
        db_index=True,
        help_text="The address the rate limit counts: the IPv4 address, or the IPv6 /64.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "enquiries"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(kind="query") | models.Q(sender__isnull=False),
                name="enquiry_second_opinion_has_sender",
            ),
            models.CheckConstraint(
                condition=models.Q(opinion="") | models.Q(opinion_by__isnull=False),
                name="enquiry_opinion_has_author",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=("status", "-created_at"), name="enquiry_status_created")
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.get_kind_display()} from {self.sender_name}"

    @property
    def reference(self) -> str:
        """The reference given to the sender, e.g. Q-000123."""
        prefix = "SO" if self.kind == EnquiryKind.SECOND_OPINION else "Q"
        return f"{prefix}-{self.pk:06d}"


class EnquiryMessage(models.Model):
    """One message in an enquiry's thread, from the sender or from staff."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_staff = models.BooleanField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")

    def __str__(self) -> str:
        return f"{'Staff' if self.from_staff else 'Sender'} on {self.enquiry_id}"


class EnquiryStatusChange(models.Model):
    """A change of status or assignment, with who made it: the triage history."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=EnquiryStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=EnquiryStatus.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


def _document_path(_instance: EnquiryDocument, _filename: str) -> str:
    # A random name: the sender's file name is never used on disk.
    return f"enquiries/{uuid.uuid4().hex}"


class EnquiryDocument(models.Model):
    """An uploaded letter, imaging or EMG report; stored outside static files and served
    only through a view that checks permission and audits."""

    class ContentType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        PNG = "image/png", "PNG image"
        JPEG = "image/jpeg", "JPEG image"

    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(upload_to=_document_path, max_length=200)
    original_name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40, choices=ContentType.choices)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("uploaded_at", "pk")

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("enquiries:document", kwargs={"document_id": self.pk})
