"""Every model, imported once so that the metadata (and Alembic) knows all tables."""
from exchange.accounts.models import ApiToken, Invitation, PasswordReset, User
from exchange.audit.models import AuditEvent
from exchange.db import Base
from exchange.notifications.models import OutboxMessage
from exchange.orgs.models import Organization
from exchange.taxonomy.models import District, Region, TechnologyField

metadata = Base.metadata

__all__ = ["ApiToken", "AuditEvent", "District", "Invitation", "Organization", "OutboxMessage",
           "PasswordReset", "Region", "TechnologyField", "User", "metadata"]
