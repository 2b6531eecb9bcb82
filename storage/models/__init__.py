"""Cobra's database schema: SQLAlchemy 2 typed models, one module per area, all re-exported here.

Every model module is imported here so ``Base.metadata`` (Alembic's target) holds every table;
a new area adds its module and one import line.
"""

from storage.models.base import (
    NAMING_CONVENTION,
    Base,
    Money,
    UtcDateTime,
    new_attempt_id,
    utcnow,
)
from storage.models.dialing import (
    CallAttempt,
    Callback,
    Campaign,
    Lead,
    Outcome,
    Segment,
)
from storage.models.negotiation import (
    Agreement,
    AgreementDebt,
    AgreementInstallment,
    ApprovalRequest,
    Promise,
)
from storage.models.people import AgentStateChange, AuditLog, User, WebSession
from storage.models.portfolio import (
    Customer,
    CustomerHold,
    CustomerTag,
    Debt,
    DncEntry,
    Payment,
    Phone,
)
from storage.models.qa import CallFlag, CallReview, Scorecard
from storage.models.scripts import ScriptRunRecord, ScriptVersion
from storage.models.vocabulary import (
    AgentState,
    AgreementKind,
    AgreementStatus,
    ApprovalStatus,
    CallResult,
    CampaignMode,
    CampaignStatus,
    DebtStatus,
    DncKind,
    HoldKind,
    InstallmentStatus,
    LeadState,
    OutcomeCode,
    PhoneKind,
    PhoneStatus,
    PromiseStatus,
    Role,
)

__all__ = [
    "NAMING_CONVENTION",
    "AgentState",
    "AgentStateChange",
    "Agreement",
    "AgreementDebt",
    "AgreementInstallment",
    "AgreementKind",
    "AgreementStatus",
    "ApprovalRequest",
    "ApprovalStatus",
    "AuditLog",
    "Base",
    "CallAttempt",
    "CallFlag",
    "CallResult",
    "CallReview",
    "Callback",
    "Campaign",
    "CampaignMode",
    "CampaignStatus",
    "Customer",
    "CustomerHold",
    "CustomerTag",
    "Debt",
    "DebtStatus",
    "DncEntry",
    "DncKind",
    "HoldKind",
    "InstallmentStatus",
    "Lead",
    "LeadState",
    "Money",
    "Outcome",
    "OutcomeCode",
    "Payment",
    "Phone",
    "PhoneKind",
    "PhoneStatus",
    "Promise",
    "PromiseStatus",
    "Role",
    "Scorecard",
    "ScriptRunRecord",
    "ScriptVersion",
    "Segment",
    "User",
    "UtcDateTime",
    "WebSession",
    "new_attempt_id",
    "utcnow",
]
