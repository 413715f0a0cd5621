"""The charter's label: its rules as versions (JSON), and the level awarded each démarche
with the rules version it was judged by and the proposal it saw.

Revision ID: c4e7a9b2d315
Revises: a7c3e5f91b24
Create Date: 2026-12-07 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e7a9b2d315'
down_revision = 'a7c3e5f91b24'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('label_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_label_rules_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_rules')),
    sa.UniqueConstraint('number', name=op.f('uq_label_rules_number'))
    )
    with op.batch_alter_table('label_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_rules_is_current'), ['is_current'], unique=False)

    op.create_table('label_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rules_version', sa.Integer(), nullable=False),
    sa.Column('proposed_level', sa.String(length=20), nullable=True),
    sa.Column('proposal', sa.JSON(), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('awarded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['awarded_by_id'], ['users.id'], name=op.f('fk_label_awards_awarded_by_id_users')),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_label_awards_demarche_id_demarches')),
    sa.ForeignKeyConstraint(['rules_version'], ['label_rules.number'], name=op.f('fk_label_awards_rules_version_label_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_awards')),
    sa.UniqueConstraint('demarche_id', name=op.f('uq_label_awards_demarche_id'))
    )


def downgrade():
    op.drop_table('label_awards')
    with op.batch_alter_table('label_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_rules_is_current'))
    op.drop_table('label_rules')
