"""A registration made by typing an address is "pending" until its owner confirms it from
the email (it holds no seat until then); ``confirmed_at`` orders the waiting list.

Revision ID: e4b7c2a91f03
Revises: 4116337f8e51
Create Date: 2026-11-26 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b7c2a91f03'
down_revision = '4116337f8e51'
branch_labels = None
depends_on = None


OLD = ("confirmed", "waiting", "cancelled")
NEW = ("pending", *OLD)
CHECK = "ck_registrations_registration_status"


def status(values):
    return sa.Enum(*values, name="registration_status", native_enum=False,
                   create_constraint=True, length=20)


def set_statuses(old, new):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(CHECK), "registrations", type_="check")
        listed = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f(CHECK), "registrations", f"status IN ({listed})")
    else:  # SQLite: the table is copied with its new CHECK
        with op.batch_alter_table("registrations", schema=None) as batch_op:
            batch_op.alter_column("status", existing_type=status(old), type_=status(new),
                                  existing_nullable=False)


def upgrade():
    set_statuses(OLD, NEW)
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    # Every registration so far was confirmed when it was made.
    op.execute("UPDATE registrations SET confirmed_at = created_at")


def downgrade():
    # A pending registration never held a seat: it lapses.
    op.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = created_at "
        "WHERE status = 'pending'"
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("confirmed_at")
    set_statuses(NEW, OLD)
