"""Laboratory results of the work-up: units and exact conversions (`units`), reference
ranges (`ranges`), and how to read the Wilson disease results (`wilson`, clinical.md 3.2).

>>> to_canonical("caeruloplasmin", 15, "mg/dL").value
0.15
>>> interpret_caeruloplasmin(0.15, "g/L").leipzig_points
1
"""

from __future__ import annotations

from dystonia.labs.ranges import (
    ReferenceRange,
    default_reference_range,
    lab_reference_range,
)
from dystonia.labs.units import (
    CANONICAL_UNITS,
    Analyte,
    Quantity,
    Unit,
    accepted_units,
    from_canonical,
    to_canonical,
)
from dystonia.labs.wilson import (
    Flag,
    Interpretation,
    interpret_caeruloplasmin,
    interpret_results,
    interpret_serum_copper,
    interpret_urinary_copper,
    non_caeruloplasmin_copper,
)

__all__ = [
    "CANONICAL_UNITS",
    "Analyte",
    "Flag",
    "Interpretation",
    "Quantity",
    "ReferenceRange",
    "Unit",
    "accepted_units",
    "default_reference_range",
    "from_canonical",
    "interpret_caeruloplasmin",
    "interpret_results",
    "interpret_serum_copper",
    "interpret_urinary_copper",
    "lab_reference_range",
    "non_caeruloplasmin_copper",
    "to_canonical",
]
