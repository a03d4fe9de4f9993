"""Encryption at rest for secrets the service must read back (webhook signing secrets).

Keys come from `STANCE_SECRET_KEYS`: comma-separated Fernet keys, the first encrypting and all of
them decrypting (`cryptography`'s MultiFernet), so a key is rotated by putting a new one first,
restarting, running `stance secrets rotate` (re-encrypts every stored secret with the first
key), and then dropping the old key. Without the setting, a key is generated once into
`STANCE_HOME/secret-keys` (mode 0600): enough for the embedded mode, where every process shares
the state directory; a deployment of several machines must set the setting, the same everywhere.
"""

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from services.settings import get_settings

KEY_FILE = "secret-keys"
# Values written before encryption (or by an older process during a rolling upgrade) are
# plaintext signing secrets; they are recognised by their prefix and re-encrypted by `rotate`.
PLAINTEXT_PREFIX = "whsec_"


class SecretKeyError(RuntimeError):
    """The configured keys cannot decrypt a stored secret, or are malformed."""


def _key_file(home: Path) -> list[str]:
    path = home / KEY_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key().decode()
        # O_EXCL: two processes starting at once agree on the first file written.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(key + "\n")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


@lru_cache
def cipher() -> MultiFernet:
    settings = get_settings()
    keys = settings.secret_keys or _key_file(settings.home)
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise SecretKeyError(f"STANCE_SECRET_KEYS holds a malformed Fernet key: {exc}") from exc


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    if value.startswith(PLAINTEXT_PREFIX):
        return value
    try:
        return cipher().decrypt(value.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError(
            "A stored secret cannot be decrypted with STANCE_SECRET_KEYS; was a key removed too early?"
        ) from exc


def rotate(value: str) -> str:
    """The value encrypted with the first key (whatever key, or none, it was stored with)."""
    return encrypt(decrypt(value))


class EncryptedText(TypeDecorator[str]):
    """A text column holding a Fernet token; the attribute holds the plaintext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return encrypt(value) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return decrypt(value) if value is not None else None
