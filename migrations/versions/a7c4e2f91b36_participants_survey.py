"""The participants' survey: invitations (who, and whether answered — never when), answers
and their scores stored apart (random ids, no time, no link to anyone, no SQLite row numbers);
the survey's own consent, on by default; the mailing kind "survey".

Revision ID: a7c4e2f91b36
Revises: c4e7a9b2d315
Create Date: 2026-12-07 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e2f91b36'
down_revision = 'c4e7a9b2d315'
branch_labels = None
depends_on = None


OLD = ("feedback", "invitation", "reminder", "newsletter", "officials", "departments")
NEW = (*OLD, "survey")
CHECK = "ck_mailings_mailing_kind"


def kind(values):
    return sa.Enum(*values, name="mailing_kind", native_enum=False,
                   create_constraint=True, length=20)


def set_kinds(old, new):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(CHECK), "mailings", type_="check")
        listed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f(CHECK), "mailings", f"kind IN ({listed})")
    else:  # SQLite: the table is copied with its new CHECK
        with op.batch_alter_table("mailings", schema=None) as batch_op:
            batch_op.alter_column("kind", existing_type=kind(old), type_=kind(new),
                                  existing_nullable=False)


def upgrade():
    set_kinds(OLD, NEW)
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_survey", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.create_table('survey_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_survey_invitations_demarche_id_demarches')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_survey_invitations_participant_id_participants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_invitations')),
    sa.UniqueConstraint('demarche_id', 'participant_id', name=op.f('uq_survey_invitations_demarche_id')),
    sa.UniqueConstraint('nonce', name=op.f('uq_survey_invitations_nonce'))
    )
    op.create_index(op.f('ix_survey_invitations_demarche_id'), 'survey_invitations', ['demarche_id'], unique=False)
    op.create_table('survey_answers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('demarche_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('online', 'paper', name='survey_source', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('first_time', sa.Boolean(), nullable=True),
    sa.Column('age_band', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['demarche_id'], ['demarches.id'], name=op.f('fk_survey_answers_demarche_id_demarches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers')),
    sqlite_with_rowid=False
    )
    op.create_index(op.f('ix_survey_answers_demarche_id'), 'survey_answers', ['demarche_id'], unique=False)
    op.create_table('survey_scores',
    sa.Column('answer_id', sa.String(length=32), nullable=False),
    sa.Column('question', sa.String(length=30), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['survey_answers.id'], name=op.f('fk_survey_scores_answer_id_survey_answers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('answer_id', 'question', name=op.f('pk_survey_scores')),
    sqlite_with_rowid=False
    )


def downgrade():
    op.drop_table('survey_scores')
    op.drop_index(op.f('ix_survey_answers_demarche_id'), table_name='survey_answers')
    op.drop_table('survey_answers')
    op.drop_index(op.f('ix_survey_invitations_demarche_id'), table_name='survey_invitations')
    op.drop_table('survey_invitations')
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("consent_survey")
    op.execute("DELETE FROM deliveries WHERE mailing_id IN (SELECT id FROM mailings WHERE kind = 'survey')")
    op.execute("DELETE FROM mailings WHERE kind = 'survey'")
    set_kinds(NEW, OLD)
