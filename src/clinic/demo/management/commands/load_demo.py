"""`manage.py load_demo`: load the made-up demonstration data (safe to run again)."""

from typing import Any

from django.core.management.base import BaseCommand

from clinic.demo import data
from clinic.demo.services import demo_load


class Command(BaseCommand):
    help = "Load the made-up demonstration data: six sites, fictional staff and patients."

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo_load()
        if result.created:
            self.stdout.write(f"Demo data loaded ({result.created} new rows).")
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write("Demo sign-ins (all made up):")
        self.stdout.write(f"  admin      {data.DEMO_ADMIN_EMAIL} / {data.DEMO_ADMIN_PASSWORD}")
        for email, password, _name, role, _slug in data.DEMO_STAFF:
            self.stdout.write(f"  {role:<10} {email} / {password}")
        self.stdout.write(f"  patient    {data.DEMO_PATIENT_EMAIL} / {data.DEMO_PATIENT_PASSWORD}")
        self.stdout.write(
            "Staff sign in with a second step: run `.venv/bin/python manage.py demo_totp_code` "
            "for the current 6-digit code."
        )
