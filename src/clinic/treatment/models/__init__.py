"""The treatment app's models, one module per part (docs/treatment.md)."""

from clinic.treatment.models.dbs import (
    AmplitudeUnit,
    BatteryCheck,
    BatteryStatus,
    DbsLead,
    DbsProgramming,
    DbsSetting,
    DbsSystem,
    DbsTarget,
    Hemisphere,
    MriStatus,
)
from clinic.treatment.models.medication import (
    DoseUnit,
    Effect,
    Medication,
    StopReason,
    TitrationStep,
)
from clinic.treatment.models.surgery import Procedure, ProcedureKind, ProcedureSide
from clinic.treatment.models.therapy import (
    Discipline,
    ReferralStatus,
    TherapyReferral,
    TherapySession,
)

__all__ = [
    "AmplitudeUnit",
    "BatteryCheck",
    "BatteryStatus",
    "DbsLead",
    "DbsProgramming",
    "DbsSetting",
    "DbsSystem",
    "DbsTarget",
    "Discipline",
    "DoseUnit",
    "Effect",
    "Hemisphere",
    "Medication",
    "MriStatus",
    "Procedure",
    "ProcedureKind",
    "ProcedureSide",
    "ReferralStatus",
    "StopReason",
    "TherapyReferral",
    "TherapySession",
    "TitrationStep",
]
