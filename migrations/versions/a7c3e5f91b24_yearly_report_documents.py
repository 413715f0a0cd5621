"""The yearly report's documents: per year, the figures, the PDF and the spreadsheet (made by
a worker, kept).

Revision ID: a7c3e5f91b24
Revises: a7c3e9f1b254
Create Date: 2026-12-07 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e5f91b24'
down_revision = 'a7c3e9f1b254'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('data_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('xlsx', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_documents')),
    sa.UniqueConstraint('year', name=op.f('uq_report_documents_year'))
    )


def downgrade():
    op.drop_table('report_documents')
