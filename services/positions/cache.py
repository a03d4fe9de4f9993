"""Serialised read responses, valid for as long as the projection checkpoint has not moved.

Every read table changes only when the projector advances its checkpoint, so a response built at
checkpoint N is exactly what a fresh query returns while the checkpoint is still N. A background
task in the API process watches the checkpoint every `interval` seconds over one async
connection, so a read whose response is cached touches neither the database nor a thread.
Positions may therefore lag the projector by at most `interval`.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from threading import Lock

import psycopg
from sqlalchemy.orm import Session

from services.logging import get_logger
from services.positions import repository
from services.positions.projector import PROJECTION_NAME

Version = tuple[int, datetime | None]
log = get_logger(__name__)
CHECKPOINT_SQL = "SELECT position, updated_at FROM projection_checkpoints WHERE name = %s"


class ProjectionCache:
    def __init__(self, interval: float, max_entries: int = 2048) -> None:
        self.interval = interval
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Version, bytes]] = OrderedDict()
        self._watched: Version | None = None
        self._watched_at = 0.0
        self._lock = Lock()

    def peek(self, key: str) -> bytes | None:
        """The cached response, while the watcher vouches for the checkpoint it was built at."""
        with self._lock:
            stale = time.monotonic() - self._watched_at > 3 * self.interval
            if self._watched is None or stale:
                return None
            entry = self._entries.get(key)
            return entry[1] if entry is not None and entry[0] == self._watched else None

    def get_or_build(self, session: Session, key: str, build: Callable[[], bytes]) -> bytes:
        version = repository.checkpoint_version(session, PROJECTION_NAME)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                return entry[1]
        # Built after reading the version, so it can only be newer than what it is filed under;
        # once the checkpoint moves the entry is rebuilt.
        body = build()
        with self._lock:
            self._entries[key] = (version, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body

    async def watch(self, dsn: str) -> None:
        """Keep `_watched` current until cancelled; on a database error, stop vouching and retry."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as connection:
                    while True:
                        cursor = await connection.execute(CHECKPOINT_SQL, (PROJECTION_NAME,))
                        row = await cursor.fetchone()
                        with self._lock:
                            self._watched = (row[0], row[1]) if row else (0, None)
                            self._watched_at = time.monotonic()
                        await asyncio.sleep(self.interval)
            except (psycopg.Error, OSError) as exc:
                with self._lock:
                    self._watched = None
                log.warning("checkpoint watcher lost the database; retrying", error=str(exc))
                await asyncio.sleep(1)
