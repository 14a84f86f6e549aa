"""Merge pages for administrators: choose two records by hospital number, compare them side by
side (identifiers, demographics and counts only), give a reason and merge. Anyone else is
answered 403 (staff) or 404 (patients), audited. Every comparison shown is an audited read of
both records (records/merge_selectors.py); the merge is records/merge.py's."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from clinic.audit.models import AuditAction, AuditChannel
from clinic.audit.services import AuditContext
from clinic.records import merge, merge_selectors
from clinic.records.access import AccessRefused
from clinic.records.merge import MergeRefused
from clinic.records.merge_forms import CHOOSE_FIELDS, MergeChooseForm, MergeForm

BAD_LINK = "This link does not name two records. Enter their hospital numbers again."
_ID = re.compile(r"[0-9]{1,12}")


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.WEB)


def _ids(request: HttpRequest) -> tuple[int, int] | None:
    """The two record ids of ``?keep=&duplicate=`` (ASCII digits only), or None."""
    keep, duplicate = request.GET.get("keep", ""), request.GET.get("duplicate", "")
    if not (_ID.fullmatch(keep) and _ID.fullmatch(duplicate)):
        return None
    return int(keep), int(duplicate)


def _check(request: HttpRequest, context: AuditContext, *ids: int) -> None:
    """Administrators only, before any input is read (an audited 403 or 404 otherwise)."""
    action = AuditAction.UPDATE if request.method == "POST" else AuditAction.READ
    try:
        merge.check_merge_access(context, *ids, action=action)
    except AccessRefused as error:
        raise error.page_error() from None


def _choose_again(request: HttpRequest, message: str) -> HttpResponse:
    page = {"form": MergeChooseForm(), "refusal": message}
    return render(request, "records/merge_choose.html", page, status=400)


def _url(name: str, keep_id: int, duplicate_id: int) -> str:
    query = urlencode({"keep": keep_id, "duplicate": duplicate_id})
    return f"{reverse(name)}?{query}"


@login_required
@require_http_methods(["GET", "POST"])
def merge_choose(request: HttpRequest) -> HttpResponse:
    """Enter the hospital numbers of the record to keep and of its duplicate. Sent by POST, so
    the numbers stay out of addresses and server logs."""
    context = _context(request)
    _check(request, context)
    form = MergeChooseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            keep_id, duplicate_id = merge_selectors.merge_find(
                context,
                keep_number=form.cleaned_data["keep_number"],
                duplicate_number=form.cleaned_data["duplicate_number"],
            )
        except AccessRefused as error:
            raise error.page_error() from None
        except MergeRefused as refusal:
            form.add_error(CHOOSE_FIELDS.get(refusal.field), refusal.message)
        else:
            return redirect(_url("records:merge-compare", keep_id, duplicate_id))
    status = 400 if form.is_bound else 200
    return render(request, "records/merge_choose.html", {"form": form}, status=status)


def _merge(
    request: HttpRequest, context: AuditContext, form: MergeForm, ids: tuple[int, int]
) -> tuple[HttpResponse | None, str, int]:
    """Merge from a valid form: the redirect to the result, or the refusal (for the top of the
    page, when not put beside its field) and the status to answer with."""
    try:
        merge.merge_patients(
            context,
            keep_id=ids[0],
            duplicate_id=ids[1],
            reason=form.cleaned_data["reason"],
            birth_dates_checked=form.cleaned_data["birth_dates_checked"],
        )
    except AccessRefused as error:
        raise error.page_error() from None
    except MergeRefused as refusal:
        if refusal.status == 404:
            raise Http404(refusal.message) from None
        if refusal.field in form.fields:
            form.add_error(refusal.field, refusal.message)
            return None, "", refusal.status
        return None, refusal.message, refusal.status
    return redirect(_url("records:merge-done", *ids)), "", 302


@login_required
@require_http_methods(["GET", "POST"])
def merge_compare(request: HttpRequest) -> HttpResponse:
    """Both records side by side, with the reason and confirmations; POST merges."""
    context = _context(request)
    ids = _ids(request)
    _check(request, context, *(ids or ()))
    if ids is None:
        return _choose_again(request, BAD_LINK)
    form = MergeForm(request.POST if request.method == "POST" else None)
    refusal, status = "", 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            done, refusal, status = _merge(request, context, form, ids)
            if done is not None:
                return done
    try:
        comparison = merge_selectors.merge_comparison(context, keep_id=ids[0], duplicate_id=ids[1])
    except MergeRefused as problem:
        if problem.status == 404:
            raise Http404(problem.message) from None
        return _choose_again(request, problem.message)
    page = {"comparison": comparison, "form": form, "refusal": refusal}
    return render(request, "records/merge_compare.html", page, status=status)


@login_required
@require_safe
def merge_done(request: HttpRequest) -> HttpResponse:
    """The result of a merge: the record kept and what each record holds now."""
    context = _context(request)
    ids = _ids(request)
    _check(request, context, *(ids or ()))
    if ids is None:
        raise Http404(BAD_LINK)
    try:
        comparison = merge_selectors.merge_comparison(
            context, keep_id=ids[0], duplicate_id=ids[1], after_merge=True
        )
    except MergeRefused as problem:
        raise Http404(problem.message) from None
    return render(request, "records/merge_done.html", {"comparison": comparison})
