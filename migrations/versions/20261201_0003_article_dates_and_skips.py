"""articles: inferred publication dates and why an article was skipped

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "articles",
        sa.Column("published_at_inferred", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("articles", sa.Column("published_at_fallback", sa.String(length=16), nullable=True))
    op.add_column("articles", sa.Column("skip_reason", sa.String(length=32), nullable=True))
    op.create_check_constraint(
        op.f("ck_articles_published_at_fallback"),
        "articles",
        "published_at_fallback IS NULL OR published_at_fallback IN ('history', 'ingest_time')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_articles_published_at_fallback", "articles", type_="check")
    op.drop_column("articles", "skip_reason")
    op.drop_column("articles", "published_at_fallback")
    op.drop_column("articles", "published_at_inferred")
