"""PostgreSQL exclusion constraints: a practitioner, a room or piece of equipment, and a
patient can never hold overlapping booked appointments (docs/booking.md).

A deliberate overbook (with a reason) is exempt for the practitioner and the resource, never
for the patient. SQLite has no exclusion constraints; there, serialised write transactions
keep the check and the write together.
"""

from django.db import migrations

CONSTRAINTS = {
    "appointment_no_practitioner_overlap": (
        "practitioner_id WITH =, tstzrange(start, blocked_until, '[)') WITH &&",
        "status = 'booked' AND NOT overbooked",
    ),
    "appointment_no_resource_overlap": (
        "resource_id WITH =, tstzrange(start, blocked_until, '[)') WITH &&",
        "status = 'booked' AND NOT overbooked AND resource_id IS NOT NULL",
    ),
    "appointment_no_patient_overlap": (
        "patient_id WITH =, tstzrange(start, \"end\", '[)') WITH &&",
        "status = 'booked'",
    ),
}


def add_constraints_sql() -> list[str]:
    """The statements that add the constraints (also used by the race tests)."""
    return [
        f"ALTER TABLE scheduling_appointment ADD CONSTRAINT {name} "
        f"EXCLUDE USING gist ({columns}) WHERE ({condition})"
        for name, (columns, condition) in CONSTRAINTS.items()
    ]


def drop_constraints_sql() -> list[str]:
    return [
        f"ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS {name}"
        for name in CONSTRAINTS
    ]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for statement in add_constraints_sql():
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in drop_constraints_sql():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
