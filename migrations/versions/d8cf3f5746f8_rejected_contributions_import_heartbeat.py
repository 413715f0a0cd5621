"""A held contribution the moderation refuses is "rejected" (never public, unlike "hidden");
imports are "queued" for a worker and record when they last moved, so that a lost task or a
dead worker's run is resumed.

Revision ID: d8cf3f5746f8
Revises: 4ea724b4cd3f
Create Date: 2026-11-25 18:26:32.924837

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8cf3f5746f8'
down_revision = '4ea724b4cd3f'
branch_labels = None
depends_on = None


OLD = ("pending", "published", "hidden")
NEW = (*OLD, "rejected")
CHECK = "ck_contributions_contribution_status"


def status(values):
    return sa.Enum(*values, name="contribution_status", native_enum=False,
                   create_constraint=True, length=20)


def set_statuses(old, new):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(CHECK), "contributions", type_="check")
        listed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f(CHECK), "contributions", f"status IN ({listed})")
    else:  # SQLite: the table is copied with its new CHECK
        with op.batch_alter_table("contributions", schema=None) as batch_op:
            batch_op.alter_column("status", existing_type=status(old), type_=status(new),
                                  existing_nullable=False)


IMPORT_OLD = ("previewed", "running", "done", "failed")
IMPORT_NEW = ("previewed", "queued", "running", "done", "failed")


def import_status(values):
    return sa.Enum(*values, name="import_status", native_enum=False, create_constraint=True,
                   length=20)


def set_import_statuses(old, new):
    if op.get_bind().dialect.name == "postgresql":
        name = "ck_contribution_imports_import_status"
        op.drop_constraint(op.f(name), "contribution_imports", type_="check")
        listed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f(name), "contribution_imports", f"status IN ({listed})")
    else:
        with op.batch_alter_table("contribution_imports", schema=None) as batch_op:
            batch_op.alter_column("status", existing_type=import_status(old),
                                  type_=import_status(new), existing_nullable=False)


def upgrade():
    set_statuses(OLD, NEW)
    set_import_statuses(IMPORT_OLD, IMPORT_NEW)
    with op.batch_alter_table("contribution_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute("UPDATE contributions SET status = 'hidden' WHERE status = 'rejected'")
    op.execute("UPDATE contribution_imports SET status = 'previewed' WHERE status = 'queued'")
    with op.batch_alter_table("contribution_imports", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    set_import_statuses(IMPORT_NEW, IMPORT_OLD)
    set_statuses(NEW, OLD)
