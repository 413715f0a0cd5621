"""Syntheses remember when the mission last edited them (``edited_at``, from the audit log for
the versions edited before), so the sheet opens on the version being worked on; the
démarche's free-text « Synthèse » and « Décision du service » are gone (the synthesis
versions and the decisions per item replaced them).

Revision ID: 75154105aa42
Revises: 08fa3c0c7321
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '75154105aa42'
down_revision = '08fa3c0c7321'
branch_labels = None
depends_on = None

RETIRED = ("synthesis_text", "decision_text")


def upgrade():
    with op.batch_alter_table("syntheses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    syntheses = sa.table("syntheses", sa.column("id", sa.Integer),
                         sa.column("edited_at", sa.DateTime(timezone=True)))
    audit = sa.table("audit_log", sa.column("at", sa.DateTime(timezone=True)),
                     sa.column("action", sa.String), sa.column("target", sa.String))
    last_edit = (
        sa.select(sa.func.max(audit.c.at))
        .where(
            audit.c.action.in_(("synthesis.edit", "synthesis.merge_themes")),
            audit.c.target == sa.literal("synthesis:") + sa.cast(syntheses.c.id, sa.String),
        )
        .scalar_subquery()
    )
    op.execute(syntheses.update().values(edited_at=last_edit))
    with op.batch_alter_table("demarches", schema=None) as batch_op:
        for name in RETIRED:
            batch_op.drop_column(name)


def downgrade():
    with op.batch_alter_table("demarches", schema=None) as batch_op:
        for name in RETIRED:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("syntheses", schema=None) as batch_op:
        batch_op.drop_column("edited_at")
