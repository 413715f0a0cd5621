"""An import of a large file waits for a worker to read it ("previewing") before its
preview is shown.

Revision ID: f5d2b8c4a611
Revises: e3c1a7d5b920
Create Date: 2026-11-30 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5d2b8c4a611'
down_revision = 'e3c1a7d5b920'
branch_labels = None
depends_on = None

OLD = ("previewed", "queued", "running", "done", "failed")
NEW = ("previewing", *OLD)


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
    set_import_statuses(OLD, NEW)


def downgrade():
    op.execute(
        "UPDATE contribution_imports SET status = 'failed', error = 'preview not made' "
        "WHERE status = 'previewing'"
    )
    set_import_statuses(NEW, OLD)
