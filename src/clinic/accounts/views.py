"""Sign up, verify, sign in (with a second factor for staff), sign out, session extension."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts import services
from clinic.accounts.forms import (
    BAD_CODE,
    ResendVerificationForm,
    SignInForm,
    SignUpForm,
    TotpCodeForm,
)
from clinic.accounts.lockout import sign_in_success_record
from clinic.accounts.models import Role, User
from clinic.accounts.requests import client_address
from clinic.audit.models import AuditChannel
from clinic.audit.services import AuditContext

VERIFY_SENT = "If that address can be used, we have sent it a link. Check your email to finish."


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _verify_url_for(request: HttpRequest) -> Any:
    def build(token: str) -> str:
        return request.build_absolute_uri(reverse("accounts:verify-email", args=[token]))

    return build


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    """A patient creates an account; we email a link to confirm the address."""
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not services.email_sending_allowed(
            ip_address=client_address(request), email=data["email"].strip().lower()
        ):
            return render(request, "accounts/sign_up_done.html", {"message": VERIFY_SENT})
        services.patient_sign_up(
            context=AuditContext.from_request(request, channel=AuditChannel.WEB),
            details=services.SignUpDetails(
                email=data["email"],
                password=data["password1"],
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
            ),
            verify_url_for=_verify_url_for(request),
            sign_in_url=request.build_absolute_uri(reverse("accounts:sign-in")),
        )
        return render(request, "accounts/sign_up_done.html", {"message": VERIFY_SENT})
    status = 400 if form.is_bound else 200
    return render(request, "accounts/sign_up.html", {"form": form}, status=status)


@require_http_methods(["GET"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm the address from the emailed link."""
    try:
        services.email_verify(token=token)
    except services.VerificationFailed:
        return render(request, "accounts/verify_failed.html", status=400)
    return render(request, "accounts/verify_done.html")


@require_http_methods(["GET", "POST"])
def resend_verification(request: HttpRequest) -> HttpResponse:
    """Send a fresh confirmation link; the answer is the same whether or not the account
    exists. Rate limited per address and per email."""
    form = ResendVerificationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        allowed = services.email_sending_allowed(ip_address=client_address(request), email=email)
        user = User.objects.filter(email=email, email_verified=False).first()
        if user is not None and allowed:
            services.email_verification_send(user=user, verify_url_for=_verify_url_for(request))
        return render(request, "accounts/sign_up_done.html", {"message": VERIFY_SENT})
    status = 400 if form.is_bound else 200
    return render(request, "accounts/resend_verification.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Email and password; then the second factor where it is required."""
    form = SignInForm(
        request.POST if request.method == "POST" else None,
        request=request,
        ip_address=client_address(request),
    )
    next_url = _next_url(request, reverse("accounts:home"))
    if request.method == "POST" and form.is_valid() and form.user is not None:
        login(request, form.user)
        if services.two_factor_required(form.user):
            return redirect(f"{reverse('accounts:two-factor')}?next={next_url}")
        return redirect(next_url)
    status = 400 if form.is_bound else 200
    context = {"form": form, "next": next_url, "unverified": form.unverified_user is not None}
    return render(request, "accounts/sign_in.html", context, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """End the session."""
    logout(request)
    messages.success(request, "You have signed out.")
    return redirect("information:home")


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """The second factor: a code from the authenticator app (or enrolment if there is none)."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign-in")
    next_url = _next_url(request, reverse("accounts:home"))
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"{reverse('accounts:two-factor-setup')}?next={next_url}")
    form = TotpCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(next_url)
        form.add_error("code", BAD_CODE)
    status = 400 if form.is_bound else 200
    return render(
        request, "accounts/two_factor.html", {"form": form, "next": next_url}, status=status
    )


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code or type the key, then confirm a code."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign-in")
    next_url = _next_url(request, reverse("accounts:home"))
    has_device = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    if has_device and not getattr(request.user, "is_verified", lambda: False)():
        # Replacing an authenticator needs the current one first: a password alone must
        # never enrol a new device and so skip the second factor.
        return redirect(f"{reverse('accounts:two-factor')}?{urlencode({'next': request.path})}")
    device = services.totp_device_pending(user=request.user)
    form = TotpCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if services.totp_device_confirm(device=device, token=form.cleaned_data["code"]):
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return redirect(next_url)
        form.add_error("code", BAD_CODE)
    qr_svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#1b1f24", light="#ffffff", omitsize=False
    )
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": qr_svg,
        "secret": _grouped(services.b32_key(device)),
        "required": request.user.is_staff_role,
    }
    return render(
        request, "accounts/two_factor_setup.html", context, status=400 if form.is_bound else 200
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@require_POST
def session_extend(request: HttpRequest) -> HttpResponse:
    """Keep the session alive; the warning dialog calls this. Always writes the session, so
    its expiry starts again from now."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    request.session.modified = True
    return HttpResponse(status=204)


def account_home(request: HttpRequest) -> HttpResponse:
    """Where each role starts after signing in."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign-in")
    role = request.user.role
    if role == Role.PATIENT:
        return redirect("records:my-record")
    if role == Role.ADMIN:
        return redirect("audit:search")
    if role == Role.CLINICIAN:
        return redirect("records:clinic-today")
    return redirect("records:patient-list")


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """Choosing a new password by the emailed link also lifts the account's lockout, as the
    lockout message promises."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        sign_in_success_record(email=form.user.email)
        return response
