"""Item positions are unique within a démarche: existing duplicates are renumbered (1, 2, 3 …
in their order of position, then creation), then a unique index holds it.

Revision ID: e3c1a7d5b920
Revises: e4b7c2a91f03
Create Date: 2026-11-30 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3c1a7d5b920'
down_revision = 'e4b7c2a91f03'
branch_labels = None
depends_on = None

INDEX = "uq_items_demarche_id_position"


def upgrade():
    bind = op.get_bind()
    items = sa.table(
        "items", sa.column("id", sa.Integer), sa.column("demarche_id", sa.Integer),
        sa.column("position", sa.Integer),
    )
    crowded = bind.execute(
        sa.select(items.c.demarche_id)
        .group_by(items.c.demarche_id, items.c.position)
        .having(sa.func.count() > 1)
    ).scalars().all()
    for demarche_id in sorted(set(crowded)):
        ids = bind.execute(
            sa.select(items.c.id)
            .where(items.c.demarche_id == demarche_id)
            .order_by(items.c.position, items.c.id)
        ).scalars().all()
        for position, item_id in enumerate(ids, start=1):
            bind.execute(
                sa.update(items).where(items.c.id == item_id).values(position=position)
            )
    op.create_index(INDEX, "items", ["demarche_id", "position"], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name="items")
