"""Every model, imported once so that the metadata (and Alembic) knows all tables."""
from exchange.accounts.models import ApiToken, Invitation, PasswordReset, User
from exchange.audit.models import AuditEvent
from exchange.catalog.models import (
    Achievement,
    Attachment,
    Entry,
    EntryEvent,
    EntryMode,
    Expert,
    Need,
    Project,
    Talent,
)
from exchange.db import Base
from exchange.notifications.models import Notification, OutboxMessage
from exchange.orgs.models import Organization
from exchange.taxonomy.models import District, Region, TechnologyField
from exchange.vouchers.models import (
    ClaimAttachment,
    IdempotencyRecord,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    OrganizationAllowance,
    ProviderObjection,
    ProviderProfile,
    Redemption,
    ServiceProduct,
    Settlement,
    Voucher,
    VoucherApplication,
    VoucherProgram,
)

metadata = Base.metadata

__all__ = ["Achievement", "ApiToken", "Attachment", "AuditEvent", "District", "Entry", "EntryEvent", "EntryMode",
           "Expert", "Invitation", "Need", "Notification", "Organization", "OutboxMessage", "PasswordReset",
           "Project", "Region", "Talent", "TechnologyField", "User", "metadata",
           "ClaimAttachment", "IdempotencyRecord", "LedgerAccount", "LedgerEntry", "LedgerTransaction",
           "OrganizationAllowance", "ProviderObjection", "ProviderProfile", "Redemption", "ServiceProduct",
           "Settlement", "Voucher", "VoucherApplication", "VoucherProgram"]
