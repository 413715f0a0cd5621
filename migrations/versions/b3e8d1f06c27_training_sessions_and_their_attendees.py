"""Training sessions of the mission and their attendees (agents and elected officials): the
qualification of the operators, which tells the departments with trained agents.

Revision ID: b3e8d1f06c27
Revises: b81f0c2d7e44
Create Date: 2026-12-07 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3e8d1f06c27'
down_revision = 'b81f0c2d7e44'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('training_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('theme', sa.String(length=200), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('format', sa.Enum('in_person', 'online', 'hybrid', name='training_format', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_sessions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_sessions'))
    )
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_sessions_date'), ['date'], unique=False)

    op.create_table('training_attendees',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], name=op.f('fk_training_attendees_session_id_training_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_attendees_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_training_attendees'))
    )
    with op.batch_alter_table('training_attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_attendees_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('training_attendees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_attendees_user_id'))

    op.drop_table('training_attendees')
    with op.batch_alter_table('training_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_sessions_date'))

    op.drop_table('training_sessions')
