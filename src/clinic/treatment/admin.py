"""Nothing of the treatment app is in the Django admin, on purpose: the admin site is for the
admin role, and administrators see no clinical data (docs/access.md). Treatments are read and
written through the clinicians' pages and the API, which check access and audit every read."""
