"""`manage.py demo_totp_code`: the current two-factor code of the demo staff accounts.

Refuses unless DEBUG is on, and only ever reads the published demo key.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from clinic.demo import data


class Command(BaseCommand):
    help = "Print the current 6-digit code for the demo staff accounts (development only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp_code runs only with DEBUG on (the demo).")
        code = totp(bytes.fromhex(data.DEMO_TOTP_KEY_HEX))
        self.stdout.write(f"{code:06d}")
