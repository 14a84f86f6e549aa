"""Patients over the JSON API: session sign-in; 401 anonymous, 403 without the right, 404
where even existence must not be revealed. Every call is audited."""

from collections.abc import Callable
from datetime import date
from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import AuthorizationError, HttpError
from ninja.responses import Status
from ninja.security import django_auth
from pydantic import Strict

from clinic.api_types import PlainText
from clinic.audit.models import AuditAction, AuditChannel, AuditOutcome
from clinic.audit.services import AuditContext, audit_record
from clinic.records import selectors, services
from clinic.records.access import AccessRefused, access_patient_list, refusal_reveals
from clinic.records.forms import MAX_AGE_YEARS, record_date_problems, validate_date_of_birth
from clinic.records.models import NAME_MAX_LENGTH, Patient
from dystonia.errors import InvalidInput
from dystonia.identifiers import nhs_number_normalise

router = Router(tags=["patients"], auth=django_auth)


class PatientOut(Schema):
    id: int
    hospital_number: str
    nhs_number: str | None
    given_name: str
    family_name: str
    date_of_birth: date
    email: str
    phone: str
    postcode: str
    gp_name: str
    gp_practice: str
    gp_address: str
    gp_email: str
    referrer_name: str
    referrer_organisation: str
    referrer_address: str
    referrer_email: str
    consents_to_email: bool
    consents_to_gp_letters: bool
    consents_to_research_contact: bool
    consent_recorded_on: date | None
    date_of_death: date | None
    discharged_on: date | None


# true or false only: "yes", 1 or "false" are refused rather than guessed at.
StrictBool = Annotated[bool, Strict()]
EMAIL_FIELDS = ("email", "gp_email", "referrer_email")


class PatientIn(Schema):
    given_name: PlainText = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    family_name: PlainText = Field(min_length=1, max_length=NAME_MAX_LENGTH)
    date_of_birth: date
    nhs_number: str | None = Field(None, max_length=14)
    email: PlainText = Field("", max_length=254)
    phone: PlainText = Field("", max_length=30)
    address: PlainText = Field("", max_length=300)
    postcode: PlainText = Field("", max_length=10)
    gp_name: PlainText = Field("", max_length=150)
    gp_practice: PlainText = Field("", max_length=200)
    gp_address: PlainText = Field("", max_length=300)
    gp_email: PlainText = Field("", max_length=254)
    referrer_name: PlainText = Field("", max_length=150)
    referrer_organisation: PlainText = Field("", max_length=200)
    referrer_address: PlainText = Field("", max_length=300)
    referrer_email: PlainText = Field("", max_length=254)
    consents_to_email: StrictBool = True
    consents_to_gp_letters: StrictBool = True
    consents_to_research_contact: StrictBool = False
    consent_recorded_on: date | None = None
    date_of_death: date | None = None
    discharged_on: date | None = None
    confirm_not_duplicate: StrictBool = Field(
        False,
        description="Register even though existing patients look alike (answered 409 with "
        "their hospital numbers otherwise).",
    )


class DuplicatesOut(Schema):
    detail: str
    errors: list[dict[str, str]]
    candidates: list[str] = Field(
        [], description="Hospital numbers of the existing patients who look alike."
    )


LOOK_ALIKES = "These patients look alike. Create anyway?"
CONFIRM_MESSAGE = (
    "confirm_not_duplicate: existing patients look alike; check them, then send "
    '"confirm_not_duplicate": true to register anyway'
)


def _context(request: HttpRequest) -> AuditContext:
    return AuditContext.from_request(request, channel=AuditChannel.API)


def _refused(error: AccessRefused) -> HttpError:
    if error.reveal:
        return HttpError(403, "You do not have access to this.")
    return HttpError(404, "Not found.")


def _staff_only(action: AuditAction) -> Callable[[HttpRequest], object]:
    """Session sign-in and a staff role, checked before any parameter or body is read:
    anonymous 401; anyone else 403 for staff and 404 for patients, audited."""

    def authenticate(request: HttpRequest) -> object:
        user = django_auth(request)
        if not user:
            return None
        if not access_patient_list(request.user):
            audit_record(
                context=_context(request),
                action=action,
                outcome=AuditOutcome.REFUSED,
                object_type="patient",
                detail="staff endpoint refused",
            )
            if refusal_reveals(request.user):
                raise AuthorizationError(message="You do not have access to this.")
            raise HttpError(404, "Not found.")
        return user

    return authenticate


class PatientDetailsInvalid(ValueError):  # noqa: N818 - reads as the condition
    """A field of a new patient is invalid; answered 422 naming it."""

    def __init__(self, *, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


def _details(payload: PatientIn) -> services.PatientDetails:
    nhs_number = None
    if payload.nhs_number and payload.nhs_number.strip():
        try:
            nhs_number = nhs_number_normalise(payload.nhs_number.strip())
        except InvalidInput:
            raise PatientDetailsInvalid(
                field="nhs_number", message="not a valid NHS number (10 digits, Modulus 11)"
            ) from None
    try:
        validate_date_of_birth(payload.date_of_birth)
    except ValidationError:
        raise PatientDetailsInvalid(
            field="date_of_birth",
            message=f"must not be in the future or more than {MAX_AGE_YEARS} years ago",
        ) from None
    for field in EMAIL_FIELDS:
        if getattr(payload, field):
            try:
                validate_email(getattr(payload, field))
            except ValidationError:
                raise PatientDetailsInvalid(
                    field=field, message="not a valid email address"
                ) from None
    values = payload.dict(exclude={"confirm_not_duplicate"})
    problems = record_date_problems(date_of_birth=payload.date_of_birth, values=values)
    if problems:
        field, message = next(iter(problems.items()))
        raise PatientDetailsInvalid(field=field, message=message)
    values["nhs_number"] = nhs_number
    return services.PatientDetails(**values)


class PatientSearch(Schema):
    q: PlainText = Field(
        "",
        max_length=selectors.SEARCH_MAX_LENGTH,
        description="Words matched against names, hospital number or NHS number.",
    )


@router.get(
    "/patients",
    response=list[PatientOut],
    auth=_staff_only(AuditAction.READ),
    summary="Find patients (reception and clinicians)",
)
def list_patients(request: HttpRequest, search: Query[PatientSearch]) -> list[Patient]:
    try:
        return list(selectors.patients_for_user(context=_context(request), search=search.q))
    except AccessRefused as error:
        raise _refused(error) from None


@router.get("/patients/{patient_id}", response=PatientOut, summary="One patient")
def get_patient(request: HttpRequest, patient_id: int) -> Patient:
    try:
        return selectors.patient_for_user(context=_context(request), patient_id=patient_id)
    except selectors.PatientNotFound:
        raise HttpError(404, "Not found.") from None
    except AccessRefused as error:
        raise _refused(error) from None


@router.post(
    "/patients",
    response={201: PatientOut, 409: DuplicatesOut},
    auth=_staff_only(AuditAction.CREATE),
    summary="Register a patient (reception and clinicians)",
    description="Answers 409 with the hospital numbers of existing patients who look alike "
    "(same date of birth and family name, or same name with day and month swapped) unless "
    '"confirm_not_duplicate": true is sent; 409 too for an NHS number already taken.',
)
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient | DuplicatesOut]:
    details = _details(payload)
    try:
        created = services.patient_create(
            context=_context(request),
            details=details,
            confirm_not_duplicate=payload.confirm_not_duplicate,
        )
    except AccessRefused as error:
        raise _refused(error) from None
    except services.PossibleDuplicates as found:
        problem = {"parameter": "confirm_not_duplicate", "in": "body", "message": CONFIRM_MESSAGE}
        numbers = [candidate.patient.hospital_number for candidate in found.candidates]
        return Status(409, DuplicatesOut(detail=LOOK_ALIKES, errors=[problem], candidates=numbers))
    return Status(201, created)


@router.get("/me", response=PatientOut, summary="The signed-in patient's own record")
def my_record(request: HttpRequest) -> Patient:
    try:
        patient = selectors.patient_own_record(context=_context(request))
    except AccessRefused as error:
        raise _refused(error) from None
    if patient is None:
        raise HttpError(404, "Not found.")
    return patient
