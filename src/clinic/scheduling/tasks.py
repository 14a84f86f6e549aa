"""Background work for scheduling, through Django's Tasks API (django-tasks): run at once in
development and tests, by `manage.py db_worker` on any number of machines in production
(README, "Running in production").

The work lives in the modules it belongs to, imported inside each task: those modules
enqueue these tasks, so this one must not import them at load time."""

from __future__ import annotations

from datetime import datetime

from django_tasks import task


@task()
def send_message(message_id: int) -> str:
    """Send one queued email (idempotent: a retried task never sends twice)."""
    from clinic.scheduling import messaging  # noqa: PLC0415 - see the module docstring

    return messaging.deliver(message_id)


@task()
def offer_freed_time(practitioner_id: int, site_id: int, service_id: int, start: str) -> int:
    """Offer a time a cancelled or moved appointment freed (``start`` in ISO 8601 with its
    offset) to the first waiting patients it suits; returns how many were offered it."""
    from clinic.scheduling import waitlist  # noqa: PLC0415 - see the module docstring

    return waitlist.offer_freed_time(
        practitioner_id=practitioner_id,
        site_id=site_id,
        service_id=service_id,
        start=datetime.fromisoformat(start),
    )


@task()
def expire_offers() -> int:
    """Lapse waiting-list offers past their hold and offer those times to the next in line."""
    from clinic.scheduling import waitlist  # noqa: PLC0415 - see the module docstring

    return waitlist.expire_offers()
