"""Sites, practitioners, specialties and services in the admin."""

from django.contrib import admin

from clinic.directory.models import OpeningHours, Practitioner, Service, Site, Specialty


class OpeningHoursInline(admin.TabularInline):  # type: ignore[type-arg]
    """A site's opening hours, edited on the site's page."""

    model = OpeningHours
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Sites with their hours and services."""

    list_display = ("name", "postcode", "telephone", "is_specialist_unit", "is_example")
    search_fields = ("name", "address_line", "postcode")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("services",)
    inlines = (OpeningHoursInline,)


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Practitioners as the public directory shows them."""

    list_display = ("display_name", "job_title", "specialty", "is_active", "is_example")
    list_filter = ("specialty", "sites", "is_active")
    search_fields = ("given_name", "family_name", "job_title")
    prepopulated_fields = {"slug": ("given_name", "family_name")}
    filter_horizontal = ("sites", "services")
    list_select_related = ("specialty",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Services the unit offers."""

    list_display = ("name", "display_order")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Clinical disciplines."""

    list_display = ("name", "practitioner_noun")
    prepopulated_fields = {"slug": ("name",)}
