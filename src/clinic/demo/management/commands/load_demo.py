"""`manage.py load_demo`: load the made-up demonstration data (safe to run again)."""

from typing import Any

from django.core.management.base import BaseCommand

from clinic.demo.data import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from clinic.demo.services import demo_load


class Command(BaseCommand):
    help = "Load the made-up demonstration data: six sites, fictional staff, example stories."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_load()
        if result.created:
            self.stdout.write(f"Demo data loaded ({result.created} new rows).")
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write(f"Demo admin sign-in: {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}")
