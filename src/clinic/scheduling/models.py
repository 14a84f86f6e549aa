"""Scheduling facts (working patterns, exceptions, leave, rooms and equipment, service
lengths) and appointments (FHIR Schedule, Slot and Appointment; shared/reference/fhir.md 2).

Free slots are never stored: they are computed from these facts (scheduling/slots.py). The
database guarantees no double booking: on PostgreSQL by exclusion constraints (migration
0002), on SQLite by serialised write transactions (docs/booking.md).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models


class ResourceKind(models.TextChoices):
    """What a service needs besides a practitioner."""

    CONSULTING_ROOM = "consulting_room", "Consulting room"
    INJECTION_ROOM = "injection_room", "Injection room"
    EMG_MACHINE = "emg_machine", "EMG machine"
    DBS_PROGRAMMER = "dbs_programmer", "DBS programmer"
    SCANNER = "scanner", "MRI or CT scanner"
    THERAPY_ROOM = "therapy_room", "Therapy room"


class Resource(models.Model):
    """A room or piece of equipment at a site that an appointment occupies."""

    site = models.ForeignKey("directory.Site", on_delete=models.PROTECT, related_name="resources")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=30, choices=ResourceKind.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ("site", "kind", "name")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("site", "name"), name="resource_unique_name_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"


class ServiceSchedule(models.Model):
    """How long a service takes, the gap kept after it, and what it needs."""

    service = models.OneToOneField(
        "directory.Service", on_delete=models.CASCADE, related_name="schedule"
    )
    duration_minutes = models.PositiveSmallIntegerField()
    buffer_minutes = models.PositiveSmallIntegerField(default=0)
    resource_kind = models.CharField(max_length=30, choices=ResourceKind.choices, blank=True)
    bookable_online = models.BooleanField(
        default=True, help_text="Patients may book it themselves."
    )

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="service_schedule_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(buffer_minutes__lte=120), name="service_schedule_buffer_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service}: {self.duration_minutes} min"


class WorkingPattern(models.Model):
    """A weekly session: a practitioner works at a site on a weekday between two local times."""

    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="working_patterns"
    )
    site = models.ForeignKey(
        "directory.Site", on_delete=models.PROTECT, related_name="working_patterns"
    )
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (i, d)
            for i, d in enumerate(
                ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            )
        ]
    )
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("practitioner", "weekday", "start_time")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="working_pattern_start_first",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="working_pattern_weekday"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="working_pattern_valid_range",
            ),
        ]

    def __str__(self) -> str:
        hours = f"{self.start_time:%H:%M}-{self.end_time:%H:%M}"
        return f"{self.practitioner} at {self.site}, {self.get_weekday_display()} {hours}"


class ScheduleException(models.Model):
    """A one-day change: the practitioner is unavailable for some hours, or works extra hours."""

    class Kind(models.TextChoices):
        UNAVAILABLE = "unavailable", "Unavailable"
        EXTRA = "extra", "Extra session"

    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    site = models.ForeignKey(
        "directory.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For an extra session, where it is.",
    )
    date = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("date", "start_time")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")),
                name="schedule_exception_start_first",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="extra") | models.Q(site__isnull=False),
                name="schedule_exception_extra_has_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.get_kind_display()} {self.date}"


class Leave(models.Model):
    """Whole days away (holiday, study leave, illness)."""

    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="leave"
    )
    start_date = models.DateField()
    end_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("start_date",)
        verbose_name_plural = "leave"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="leave_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} away {self.start_date} to {self.end_date}"


class AppointmentStatus(models.TextChoices):
    """FHIR R4 Appointment.status values the unit uses."""

    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"
    FULFILLED = "fulfilled", "Attended"
    NOSHOW = "noshow", "Did not attend"


class Appointment(models.Model):
    """A patient's booked time with a practitioner at a site, occupying a resource if the
    service needs one. ``blocked_until`` is the end plus the service's buffer: overlap is
    judged on [start, blocked_until)."""

    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="appointments"
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.PROTECT, related_name="appointments"
    )
    site = models.ForeignKey(
        "directory.Site", on_delete=models.PROTECT, related_name="appointments"
    )
    service = models.ForeignKey(
        "directory.Service", on_delete=models.PROTECT, related_name="appointments"
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    overbooked = models.BooleanField(default=False)
    overbook_reason = models.CharField(max_length=200, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("start", "pk")
        indexes: ClassVar = [
            models.Index(fields=("practitioner", "start"), name="appointment_practitioner_start"),
            models.Index(fields=("site", "start"), name="appointment_site_start"),
            models.Index(fields=("patient", "start"), name="appointment_patient_start"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(blocked_until__gte=models.F("end")),
                name="appointment_blocked_covers_end",
            ),
            models.CheckConstraint(
                condition=models.Q(overbooked=False) | ~models.Q(overbook_reason=""),
                name="appointment_overbook_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} with {self.practitioner} at {self.start:%Y-%m-%d %H:%M}"


class AppointmentChange(models.Model):
    """Every change to an appointment: who, when, what and why."""

    class Kind(models.TextChoices):
        BOOKED = "booked", "Booked"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    old_start = models.DateTimeField(null=True, blank=True)
    new_start = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.changed_by_id} at {self.at:%Y-%m-%d %H:%M}"


class IdempotentRequest(models.Model):
    """The first answer to a booking request with an Idempotency-Key, so a retry gets the same
    answer and never a second booking."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=("user", "key"), name="idempotent_request_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


# --- Around the booking: messages, waiting list, recalls, open follow-up, calendar feeds ---


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Booking confirmation"
    CHANGE = "change", "Change confirmation"
    CANCELLATION = "cancellation", "Cancellation confirmation"
    REMINDER = "reminder", "Reminder"
    WAITLIST_OFFER = "waitlist_offer", "Waiting-list offer"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed, needs attention"
    SKIPPED = "skipped", "Not sent"


class Message(models.Model):
    """An email to a patient, recorded against its appointment or waiting-list offer: the
    outbox a task sends from, once (``dedupe_key`` makes creating it idempotent; the status
    makes sending it idempotent)."""

    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="messages"
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    offer = models.ForeignKey(
        "WaitlistOffer", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    status = models.CharField(
        max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    dedupe_key = models.CharField(max_length=120, unique=True)
    to_email = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    ical = models.TextField(blank=True, help_text="The iCalendar attachment, if any.")
    about_start = models.DateTimeField(
        null=True, blank=True, help_text="The appointment time the message is about."
    )
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes: ClassVar = [models.Index(fields=("status", "due_at"), name="message_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to_email or '(no address)'}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked"
    WITHDRAWN = "withdrawn", "Withdrawn"


class WaitlistEntry(models.Model):
    """A patient waiting for an earlier appointment: the service, the sites (none means any)
    and the dates and times of day they can come. First come, first offered."""

    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    service = models.ForeignKey(
        "directory.Service", on_delete=models.PROTECT, related_name="waitlist_entries"
    )
    sites = models.ManyToManyField("directory.Site", blank=True, related_name="+")
    earliest_date = models.DateField()
    latest_date = models.DateField()
    earliest_time = models.TimeField(null=True, blank=True)
    latest_time = models.TimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(latest_date__gte=models.F("earliest_date")),
                name="waitlist_dates_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(earliest_time__isnull=True)
                | models.Q(latest_time__isnull=True)
                | models.Q(latest_time__gt=models.F("earliest_time")),
                name="waitlist_times_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.service}"


class OfferStatus(models.TextChoices):
    OPEN = "open", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    TAKEN = "taken", "Taken by someone else"


class WaitlistOffer(models.Model):
    """A freed time offered to a waiting patient, held for them until ``expires_at``. Never
    booked without their acceptance. The link's token is stored only as its SHA-256."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.PROTECT, related_name="+"
    )
    site = models.ForeignKey("directory.Site", on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField(
        help_text="The end of the held span: the appointment and its buffer."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    extended = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes: ClassVar = [
            models.Index(fields=("practitioner", "start"), name="offer_practitioner_start")
        ]

    def __str__(self) -> str:
        return f"Offer of {self.start:%Y-%m-%d %H:%M} to {self.entry.patient}"


class RecallStatus(models.TextChoices):
    OPEN = "open", "Due"
    BOOKED = "booked", "Booked"
    CLOSED = "closed", "Closed"


class Recall(models.Model):
    """A patient due for a service by a date (for example re-injection about 12 weeks after
    the last toxin session), per site and practitioner, worked by reception."""

    patient = models.ForeignKey("records.Patient", on_delete=models.PROTECT, related_name="recalls")
    service = models.ForeignKey("directory.Service", on_delete=models.PROTECT, related_name="+")
    due_by = models.DateField()
    site = models.ForeignKey(
        "directory.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=RecallStatus.choices, default=RecallStatus.OPEN
    )
    closed_reason = models.CharField(max_length=200, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("due_by", "pk")
        indexes: ClassVar = [models.Index(fields=("status", "due_by"), name="recall_due")]

    def __str__(self) -> str:
        return f"{self.patient} due {self.service} by {self.due_by}"


class RecallContact(models.Model):
    """One attempt to reach a recalled patient."""

    class Method(models.TextChoices):
        PHONE = "phone", "Telephone"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        TEXT = "text", "Text message"

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", "No answer"
        LEFT_MESSAGE = "left_message", "Left a message"
        WILL_CALL_BACK = "will_call_back", "Will call back"
        DECLINED = "declined", "Declined for now"
        WRONG_NUMBER = "wrong_number", "Wrong number or address"
        SENT = "sent", "Sent"

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="contacts")
    method = models.CharField(max_length=10, choices=Method.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.CharField(max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("at", "pk")

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.get_outcome_display()}"


class FollowUpStatus(models.TextChoices):
    OPEN = "open", "Open"
    USED = "used", "Booked"
    ENDED = "ended", "Ended"


class OpenFollowUp(models.Model):
    """Patient-initiated follow-up: the patient may book this service from the portal, from
    ``earliest_date`` to ``ends_on``, when symptoms return (for example when toxin wears off)."""

    patient = models.ForeignKey(
        "records.Patient", on_delete=models.PROTECT, related_name="open_follow_ups"
    )
    service = models.ForeignKey("directory.Service", on_delete=models.PROTECT, related_name="+")
    earliest_date = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    note = models.CharField(max_length=200, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("earliest_date")),
                name="follow_up_window_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient}: open follow-up for {self.service} until {self.ends_on}"


class CalendarFeed(models.Model):
    """A private iCalendar feed of a practitioner's appointments. The URL's secret token is
    stored only as its SHA-256; a revoked feed answers 404."""

    practitioner = models.ForeignKey(
        "directory.Practitioner", on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"Calendar feed for {self.practitioner}"
