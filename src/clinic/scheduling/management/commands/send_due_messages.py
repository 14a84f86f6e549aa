"""Send the emails that are due and lapse waiting-list offers past their hold.

With a worker backend (django-tasks-db) the tasks are deferred to their time and this is
only a safety net after an outage; with the immediate backend (development, one machine) run
it every few minutes to send reminders and retries."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clinic.scheduling import messaging, waitlist


class Command(BaseCommand):
    help = "Send due reminders and retries, and lapse expired waiting-list offers."

    def handle(self, *args: Any, **options: Any) -> None:
        lapsed = waitlist.expire_offers()
        sent = messaging.send_due()
        self.stdout.write(f"Sent {sent} due message(s); {lapsed} waiting-list offer(s) lapsed.")
