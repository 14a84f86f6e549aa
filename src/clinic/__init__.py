"""The Django project of Dystonia Clinic: settings, URLs and one app per area."""
