"""Contributions: their author in the source they were imported from

Revision ID: a7c3e9f1b254
Revises: d1d812ee7c90
Create Date: 2026-12-07 15:00:00

An imported contribution without an address keeps its author's identity in its source (the
export's author id, else a digest of the name within the file), so that the people who took
part are counted (``workflows.authors``). Rows imported before keep NULL: nobody known.
"""

import sqlalchemy as sa
from alembic import op

revision = "a7c3e9f1b254"
down_revision = "d1d812ee7c90"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contributions") as batch:
        batch.add_column(sa.Column("author_key", sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table("contributions") as batch:
        batch.drop_column("author_key")
