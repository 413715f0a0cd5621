"""The emails sent keep their text, so that a citizen rereads them in their espace citoyen
(outbox notifications and mailing deliveries); erasing the person empties it.

Revision ID: a7c3e91b2d45
Revises: f5d2b8c4a611
Create Date: 2026-12-07 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e91b2d45'
down_revision = 'f5d2b8c4a611'
branch_labels = None
depends_on = None


def upgrade():
    for table in ("outbox", "deliveries"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("body", sa.Text(), nullable=False, server_default=""))


def downgrade():
    for table in ("outbox", "deliveries"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("body")
