"""The evaluation of a démarche: its copy frozen at the closing (JSON, with the date of its
data), and the department's self-assessment with the mission's review.

Revision ID: d1d812ee7c90
Revises: b9e4d2c7a150
Create Date: 2026-12-07 06:29:34.734409

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1d812ee7c90'
down_revision = 'b9e4d2c7a150'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data_as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scores_version', sa.SmallInteger(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_evaluations_demarche_id_demarches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations')),
    sa.UniqueConstraint('demarche_id', name=op.f('uq_evaluations_demarche_id'))
    )
    op.create_table('self_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('comments', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'accepted', 'to_complete', name='self_assessment_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_self_assessments_demarche_id_demarches')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_self_assessments_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_self_assessments_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessments')),
    sa.UniqueConstraint('demarche_id', name=op.f('uq_self_assessments_demarche_id'))
    )


def downgrade():
    op.drop_table('self_assessments')
    op.drop_table('evaluations')
