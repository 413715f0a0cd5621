"""The citizen role, given to whoever registers an espace citoyen.

Revision ID: 4ea724b4cd3f
Revises: d699e66727cc
Create Date: 2026-11-25 17:59:04.952802

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4ea724b4cd3f'
down_revision = 'd699e66727cc'
branch_labels = None
depends_on = None


ROLES = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.String))


def upgrade():
    exists = op.get_bind().execute(sa.select(ROLES.c.name).where(ROLES.c.name == "citizen"))
    if exists.first() is None:
        op.bulk_insert(ROLES, [{"name": "citizen",
                                "description": "Citoyen·ne : son espace citoyen, ses contributions"}])


def downgrade():
    op.execute(ROLES.delete().where(ROLES.c.name == "citizen"))
