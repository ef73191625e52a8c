"""normalise stored e-mail addresses

Every address is kept in one canonical spelling (NFKC, the domain in IDNA/UTS 46 form, lower case),
so that the unique constraint on users.email holds for every spelling of one address. Accounts whose
addresses are two spellings of one address cannot be merged by a migration: it stops and names them.

Revision ID: normalise_emails
Revises: 0003
"""
import unicodedata

import idna
import sqlalchemy as sa
from alembic import op

revision = 'normalise_emails'
down_revision = '0003'
branch_labels = None
depends_on = None


def _canonical(raw):
    # A copy of exchange.accounts.services.canonical_email as of this revision: a migration keeps
    # doing what it did when it was written, whatever the application code becomes.
    text = unicodedata.normalize("NFKC", raw or "").strip()
    local, at, domain = text.rpartition("@")
    if at and domain:
        try:
            domain = idna.decode(idna.encode(domain, uts46=True))
        except (idna.IDNAError, UnicodeError):
            pass
        text = f"{local}@{domain}"
    return text.lower()


def upgrade() -> None:
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String))
    invitations = sa.table('invitations', sa.column('id', sa.Integer), sa.column('email', sa.String))

    rows = connection.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    holders = {}
    for user_id, email in rows:
        holders.setdefault(_canonical(email), []).append(user_id)
    shared = {email: ids for email, ids in holders.items() if len(ids) > 1}
    if shared:
        listing = "; ".join(f"{email}: users {', '.join(map(str, ids))}" for email, ids in sorted(shared.items()))
        raise RuntimeError(
            "These accounts are spellings of one e-mail address; merge or change them, then migrate again: "
            + listing)
    for table, records in ((users, rows),
                           (invitations, connection.execute(sa.select(invitations.c.id, invitations.c.email)).all())):
        for row_id, email in records:
            if _canonical(email) != email:
                connection.execute(table.update().where(table.c.id == row_id).values(email=_canonical(email)))


def downgrade() -> None:
    # The canonical spelling is a valid spelling of the same address: nothing to undo.
    pass
