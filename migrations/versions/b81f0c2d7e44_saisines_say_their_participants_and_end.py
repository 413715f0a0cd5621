"""Saisines say the participants they expect and when the participation must be over (what
the toolbox's suggestions weigh).

Revision ID: b81f0c2d7e44
Revises: 75154105aa42
Create Date: 2026-12-07 06:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b81f0c2d7e44'
down_revision = '75154105aa42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('demarches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expected_participants', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('participation_ends_by', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('demarches', schema=None) as batch_op:
        batch_op.drop_column('participation_ends_by')
        batch_op.drop_column('expected_participants')
