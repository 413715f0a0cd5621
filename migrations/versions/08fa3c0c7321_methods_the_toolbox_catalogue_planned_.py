"""The toolbox: the catalogue of methods, the methods a démarche plans and those its events
and channels used; the participation ladder gains its top rung, codécision.

The catalogue itself is data (workflows/data/methods/catalogue.json), loaded by
``flask methods load`` (and the demo), not by this migration.

Revision ID: 08fa3c0c7321
Revises: a7c3e91b2d45
Create Date: 2026-12-07 02:32:06.559655

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '08fa3c0c7321'
down_revision = 'a7c3e91b2d45'
branch_labels = None
depends_on = None


OLD_LEVELS = ("information", "consultation", "concertation", "co-construction")
NEW_LEVELS = (*OLD_LEVELS, "codecision")
CHECK = "ck_demarches_participation_level"


def level(values):
    return sa.Enum(*values, name="participation_level", native_enum=False,
                   create_constraint=True, length=20)


def set_levels(old, new):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(CHECK), "demarches", type_="check")
        listed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(
            op.f(CHECK), "demarches", f"participation_level IN ({listed})"
        )
    else:  # SQLite: the table is copied with its new CHECK
        with op.batch_alter_table("demarches", schema=None) as batch_op:
            batch_op.alter_column("participation_level", existing_type=level(old),
                                  type_=level(new), existing_nullable=True)


def upgrade():
    set_levels(OLD_LEVELS, NEW_LEVELS)
    op.create_table('methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('objectives', sa.Text(), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('size_min', sa.Integer(), nullable=False),
    sa.Column('size_max', sa.Integer(), nullable=True),
    sa.Column('format', sa.Enum('in_person', 'online', 'hybrid', name='method_format', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('recruitment', sa.JSON(), nullable=False),
    sa.Column('preparation_weeks', sa.SmallInteger(), nullable=False),
    sa.Column('duration', sa.Text(), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=False),
    sa.Column('cost_min', sa.Integer(), nullable=False),
    sa.Column('cost_max', sa.Integer(), nullable=False),
    sa.Column('cost_year', sa.SmallInteger(), nullable=False),
    sa.Column('cost_note', sa.Text(), nullable=False),
    sa.Column('skills', sa.Text(), nullable=False),
    sa.Column('when_to_use', sa.Text(), nullable=False),
    sa.Column('when_to_avoid', sa.Text(), nullable=False),
    sa.Column('strengths', sa.Text(), nullable=False),
    sa.Column('limits', sa.Text(), nullable=False),
    sa.Column('produces', sa.Text(), nullable=False),
    sa.Column('accessibility', sa.Text(), nullable=False),
    sa.Column('sources', sa.Text(), nullable=False),
    sa.Column('licence', sa.Text(), nullable=False),
    sa.Column('ratings', sa.JSON(), nullable=False),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('shipped', sa.Boolean(), nullable=False),
    sa.Column('shipped_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('edited_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['edited_by_id'], ['users.id'], name=op.f('fk_methods_edited_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_methods')),
    sa.UniqueConstraint('slug', name=op.f('uq_methods_slug'))
    )
    with op.batch_alter_table('methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_methods_retired'), ['retired'], unique=False)

    op.create_table('planned_methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('method_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_planned_methods_demarche_id_demarches')),
    sa.ForeignKeyConstraint(['method_id'], ['methods.id'], name=op.f('fk_planned_methods_method_id_methods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_methods')),
    sa.UniqueConstraint('demarche_id', 'method_id', name=op.f('uq_planned_methods_demarche_id'))
    )
    with op.batch_alter_table('planned_methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_methods_demarche_id'), ['demarche_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_methods_method_id'), ['method_id'], unique=False)

    op.create_table('used_methods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('method_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_used_methods_demarche_id_demarches')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_used_methods_event_id_events')),
    sa.ForeignKeyConstraint(['method_id'], ['methods.id'], name=op.f('fk_used_methods_method_id_methods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_used_methods')),
    sa.UniqueConstraint('demarche_id', 'channel', name=op.f('uq_used_methods_demarche_id')),
    sa.UniqueConstraint('event_id', name=op.f('uq_used_methods_event_id'))
    )
    with op.batch_alter_table('used_methods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_methods_demarche_id'), ['demarche_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_used_methods_method_id'), ['method_id'], unique=False)



def downgrade():
    with op.batch_alter_table('used_methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_methods_method_id'))
        batch_op.drop_index(batch_op.f('ix_used_methods_demarche_id'))

    op.drop_table('used_methods')
    with op.batch_alter_table('planned_methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_methods_method_id'))
        batch_op.drop_index(batch_op.f('ix_planned_methods_demarche_id'))

    op.drop_table('planned_methods')
    with op.batch_alter_table('methods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_methods_retired'))

    op.drop_table('methods')
    op.execute(
        "UPDATE demarches SET participation_level = 'co-construction' "
        "WHERE participation_level = 'codecision'"
    )
    set_levels(NEW_LEVELS, OLD_LEVELS)
