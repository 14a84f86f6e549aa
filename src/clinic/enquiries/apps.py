from django.apps import AppConfig


class EnquiriesConfig(AppConfig):
    """How people reach the unit: queries and second opinions."""

    name = "clinic.enquiries"
    label = "enquiries"
    verbose_name = "Enquiries"
