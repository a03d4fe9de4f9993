"""webhook signing secrets encrypted at rest

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:45:00

Encrypts with the keys the migrating process is configured with (STANCE_SECRET_KEYS, or the key
file under STANCE_HOME); the API and workers must be given the same keys.
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from services import secrets

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_subscriptions = sa.table(
    "webhook_subscriptions",
    sa.column("id", sa.UUID()),
    sa.column("secret", sa.Text()),
    sa.column("previous_secret", sa.Text()),
)


def _convert(convert: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_subscriptions.c.id, _subscriptions.c.secret, _subscriptions.c.previous_secret)
    ).all()
    for row in rows:
        connection.execute(
            _subscriptions.update()
            .where(_subscriptions.c.id == row.id)
            .values(
                secret=convert(row.secret),
                previous_secret=convert(row.previous_secret) if row.previous_secret else None,
            )
        )


def upgrade() -> None:
    # A Fernet token of a 50-character secret is 164 characters: the columns become text.
    op.alter_column("webhook_subscriptions", "secret", type_=sa.Text(), existing_nullable=False)
    op.alter_column("webhook_subscriptions", "previous_secret", type_=sa.Text(), existing_nullable=True)
    _convert(lambda value: secrets.encrypt(value) if value.startswith(secrets.PLAINTEXT_PREFIX) else value)


def downgrade() -> None:
    _convert(secrets.decrypt)
    op.alter_column("webhook_subscriptions", "secret", type_=sa.String(length=100), existing_nullable=False)
    op.alter_column(
        "webhook_subscriptions", "previous_secret", type_=sa.String(length=100), existing_nullable=True
    )
