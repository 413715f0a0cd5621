"""The guide's documents: each edition of the guide and toolbox PDF, with the digest of what it
was made from (made by a worker, kept).

Revision ID: b9e4d2c7a150
Revises: b3e8d1f06c27
Create Date: 2026-12-10 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b9e4d2c7a150'
down_revision = 'b3e8d1f06c27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('guide_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('charter_number', sa.Integer(), nullable=True),
    sa.Column('methods', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guide_documents')),
    sa.UniqueConstraint('digest', name=op.f('uq_guide_documents_digest'))
    )
    with op.batch_alter_table('guide_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guide_documents_made_at'), ['made_at'], unique=False)


def downgrade():
    with op.batch_alter_table('guide_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guide_documents_made_at'))
    op.drop_table('guide_documents')
