"""Setting up the diary in the admin: how long services take and what they need, rooms and
equipment, practitioners' weekly sessions, one-day changes and leave; and revoking a lost
calendar feed. Nothing here shows patient data: administrators see none (docs/access.md).
The models' constraints (an end after its start, an extra session with a site) are checked
on every save, so the admin shows them as form errors."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext
from clinic.records.access import AccessRefused
from clinic.scheduling import calendar_feeds
from clinic.scheduling.models import (
    CalendarFeed,
    Leave,
    Resource,
    ScheduleException,
    ServiceSchedule,
    WorkingPattern,
)


@admin.register(ServiceSchedule)
class ServiceScheduleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A service's length, the gap kept after it, what it needs, and whether patients book
    it online."""

    list_display = (
        "service",
        "duration_minutes",
        "buffer_minutes",
        "resource_kind",
        "bookable_online",
    )
    list_filter = ("bookable_online", "resource_kind")
    list_select_related = ("service",)


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rooms and equipment per site; an inactive one is no longer booked."""

    list_display = ("name", "site", "kind", "is_active")
    list_filter = ("site", "kind", "is_active")
    search_fields = ("name",)
    list_select_related = ("site",)


@admin.register(WorkingPattern)
class WorkingPatternAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Weekly sessions, in the clinic's local time, valid between two dates."""

    list_display = (
        "practitioner",
        "site",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    )
    list_filter = ("site", "weekday", "practitioner")
    list_select_related = ("practitioner", "site")


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """One-day changes: hours away, or an extra session at a site."""

    list_display = ("date", "practitioner", "kind", "start_time", "end_time", "site", "note")
    list_filter = ("kind", "practitioner")
    date_hierarchy = "date"
    list_select_related = ("practitioner", "site")


@admin.register(Leave)
class LeaveAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Whole days away. Appointments already booked in them stay booked: reception moves
    them from the day view."""

    list_display = ("practitioner", "start_date", "end_date", "reason")
    list_filter = ("practitioner",)
    date_hierarchy = "start_date"
    list_select_related = ("practitioner",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Practitioners' calendar feeds: an administrator can revoke one (a lost phone, someone
    leaving) but never create one or see its address."""

    list_display = ("practitioner", "created_at", "revoked_at")
    list_filter = ("practitioner",)
    readonly_fields = ("practitioner", "created_by", "created_at", "revoked_at")
    exclude = ("token_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Revoke the selected feeds")
    def revoke(self, request: HttpRequest, queryset: QuerySet[CalendarFeed]) -> None:
        context = AuditContext.from_request(request, channel=AuditChannel.WEB)
        revoked = 0
        for feed in queryset:
            try:
                calendar_feeds.feed_revoke(context=context, feed_id=feed.pk)
            except AccessRefused:
                self.message_user(request, f"Not allowed to revoke {feed}.", messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, f"{revoked} feed(s) revoked.", messages.SUCCESS)
