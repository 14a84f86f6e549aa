"""Account writes: patient sign-up, email verification, two-factor enrolment."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.lockout import throttle_allows
from clinic.accounts.models import Role, User
from clinic.accounts.requests import address_network
from clinic.audit.services import AuditContext
from clinic.records.services import PatientDetails, patient_self_register

VERIFICATION_SALT = "clinic.accounts.email-verification"
TOTP_DEVICE_NAME = "Authenticator app"


@dataclass(frozen=True)
class SignUpDetails:
    """What a patient gives to create an account."""

    email: str
    password: str
    given_name: str
    family_name: str
    date_of_birth: object  # datetime.date, validated by the form


def email_verification_token(user: User) -> str:
    """A signed, expiring token naming the account and the address it confirms."""
    return signing.dumps({"user": user.pk, "email": user.email}, salt=VERIFICATION_SALT)


def _send(template: str, *, to: str, context: dict[str, object]) -> None:
    subject = render_to_string(f"accounts/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"accounts/email/{template}.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def email_verification_send(*, user: User, verify_url_for: object) -> None:
    """Email the link that confirms the address. ``verify_url_for(token)`` builds the link."""
    token = email_verification_token(user)
    url = verify_url_for(token)  # type: ignore[operator]
    _send("verify", to=user.email, context={"user": user, "url": url})


def patient_sign_up(
    *, context: AuditContext, details: SignUpDetails, verify_url_for: object, sign_in_url: str
) -> User | None:
    """Create a patient account and its record, and send the verification email.

    An address that already has an account gets an email saying so, and the caller shows
    the same page either way, so sign-up never reveals who has an account.
    """
    email = details.email.strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        transaction.on_commit(
            lambda: _send("already_registered", to=email, context={"url": sign_in_url})
        )
        return None
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            details.password,
            full_name=f"{details.given_name} {details.family_name}",
            role=Role.PATIENT,
        )
        patient_context = AuditContext(
            actor=user,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            path=context.path,
            channel=context.channel,
        )
        patient_self_register(
            context=patient_context,
            user=user,
            details=PatientDetails(
                given_name=details.given_name,
                family_name=details.family_name,
                date_of_birth=details.date_of_birth,  # type: ignore[arg-type]
                email=email,
            ),
        )
        transaction.on_commit(
            lambda: email_verification_send(user=user, verify_url_for=verify_url_for)
        )
    return user


class VerificationFailed(Exception):  # noqa: N818 - reads as the event
    """The link is broken, expired, or for an address the account no longer has."""


def email_verify(*, token: str) -> User:
    """Mark the address confirmed; raises VerificationFailed."""
    try:
        data = signing.loads(
            token, salt=VERIFICATION_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT_SECONDS
        )
    except signing.BadSignature:
        raise VerificationFailed from None
    user = User.objects.filter(pk=data.get("user"), email=data.get("email")).first()
    if user is None:
        raise VerificationFailed
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


# Emails sent on request (sign-up, new confirmation links): per address and per email, hourly.
EMAIL_SENDS_PER_ADDRESS_PER_HOUR = 10
EMAIL_SENDS_PER_EMAIL_PER_HOUR = 3


def email_sending_allowed(*, ip_address: str | None, email: str) -> bool:
    """Whether another sign-up or confirmation email may be sent now, so the forms cannot be
    used to flood an inbox; the page looks the same either way."""
    by_address = throttle_allows(
        scope="email-address",
        key=address_network(ip_address),
        limit=EMAIL_SENDS_PER_ADDRESS_PER_HOUR,
        window_seconds=3600,
    )
    by_email = throttle_allows(
        scope="email-to", key=email, limit=EMAIL_SENDS_PER_EMAIL_PER_HOUR, window_seconds=3600
    )
    return by_address and by_email


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator the person is enrolling (created on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_device_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm enrolment with the first code from the app; replaces any older device. Call
    only for someone with no confirmed device, or who has passed two-factor this session."""
    if not device.verify_token(token):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return True


def two_factor_required(user: User) -> bool:
    """Staff always; a patient once they have turned it on."""
    if user.is_staff_role:
        return True
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def b32_key(device: TOTPDevice) -> str:
    """The device's secret in base32, for typing into an app that cannot scan."""
    from base64 import b32encode  # noqa: PLC0415 - only needed here

    return b32encode(device.bin_key).decode("ascii")
