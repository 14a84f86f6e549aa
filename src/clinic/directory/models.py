"""The unit's sites, services, specialties and practitioners (FHIR Location, HealthcareService,
PractitionerRole; see shared/reference/fhir.md section 2)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.urls import reverse

SLUG_HELP = "Lower-case letters, digits and hyphens; used in web addresses."


class Service(models.Model):
    """Something the unit offers, such as a botulinum toxin clinic (FHIR HealthcareService)."""

    slug = models.SlugField(max_length=80, unique=True, help_text=SLUG_HELP)
    name = models.CharField(max_length=120, unique=True)
    summary = models.CharField(max_length=300, help_text="One sentence for patients.")
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("display_order", "name")

    def __str__(self) -> str:
        return self.name


class Specialty(models.Model):
    """A clinical discipline, such as neurology or physiotherapy."""

    slug = models.SlugField(max_length=80, unique=True, help_text=SLUG_HELP)
    name = models.CharField(max_length=120, unique=True)
    practitioner_noun = models.CharField(
        max_length=120, help_text="What one practitioner is called, e.g. 'Neurologist'."
    )

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A place where the unit sees patients (FHIR Location)."""

    slug = models.SlugField(max_length=80, unique=True, help_text=SLUG_HELP)
    name = models.CharField(max_length=160, unique=True)
    is_specialist_unit = models.BooleanField(
        default=False, help_text="The unit's main base, listed first."
    )
    summary = models.CharField(max_length=300, blank=True)
    address_line = models.CharField(max_length=200, help_text="Street address, without the city.")
    city = models.CharField(max_length=80, default="London")
    postcode = models.CharField(max_length=10)
    telephone = models.CharField(max_length=30)
    email = models.EmailField(blank=True)
    services = models.ManyToManyField(Service, related_name="sites", blank=True)
    is_example = models.BooleanField(
        default=False,
        help_text="Demonstration data: the page says its telephone and hours are examples.",
    )

    class Meta:
        ordering = ("-is_specialist_unit", "name")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("directory:site-detail", kwargs={"slug": self.slug})

    @property
    def full_address(self) -> str:
        """The address on one line, as shown to visitors."""
        return f"{self.address_line}, {self.city} {self.postcode}"


class OpeningHours(models.Model):
    """One opening period of a site on one weekday (FHIR Location.hoursOfOperation)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ("weekday", "opens")
        verbose_name_plural = "opening hours"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")), name="opening_hours_opens_first"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday"
            ),
            models.UniqueConstraint(
                fields=("site", "weekday", "opens"), name="opening_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Practitioner(models.Model):
    """A clinician of the unit as the public sees them (FHIR Practitioner + PractitionerRole)."""

    slug = models.SlugField(max_length=80, unique=True, help_text=SLUG_HELP)
    prefix = models.CharField(max_length=20, blank=True, help_text="Dr, Professor, Mr, Ms ...")
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    job_title = models.CharField(max_length=120, help_text="e.g. Consultant neurologist")
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="practitioners")
    sites = models.ManyToManyField(Site, related_name="practitioners", blank=True)
    services = models.ManyToManyField(Service, related_name="practitioners", blank=True)
    biography = models.TextField(blank=True)
    clinical_interests = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True, help_text="Shown in find a doctor.")
    is_example = models.BooleanField(
        default=False, help_text="Demonstration data: the page says this person is fictional."
    )

    class Meta:
        ordering = ("family_name", "given_name")

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("directory:practitioner-detail", kwargs={"slug": self.slug})

    @property
    def display_name(self) -> str:
        """The name as shown to visitors, with its prefix."""
        return " ".join(part for part in (self.prefix, self.given_name, self.family_name) if part)
