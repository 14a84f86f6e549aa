from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    """The public directory of the unit."""

    name = "clinic.directory"
    label = "directory"
    verbose_name = "Directory"
