"""What every form in the site shares: errors announced beside their field."""

from __future__ import annotations

from typing import Any


class AccessibleFormMixin:
    """After validation, marks each field in error with aria-invalid and points
    aria-describedby at its message (and hint), so screen readers read them with the field."""

    fields: dict[str, Any]
    errors: Any

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:
            field = self.fields.get(name)
            if field is None:
                continue
            described_by = [f"id_{name}_error"]
            if field.help_text:
                described_by.append(f"id_{name}_helptext")
            field.widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": " ".join(described_by)}
            )
