"""Serialised read responses, valid for as long as the projection checkpoint has not moved.

Every read table changes only when the projector advances its checkpoint, so a response built at
checkpoint N is exactly what a fresh query returns while the checkpoint is still N. The checkpoint
itself is looked up at most every `ttl` seconds, so under load most reads touch neither the
database nor a thread: positions may lag the projector by at most that long.
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from threading import Lock

from sqlalchemy.orm import Session

from services.positions import repository
from services.positions.projector import PROJECTION_NAME

Version = tuple[int, datetime | None]


class ProjectionCache:
    def __init__(self, ttl: float, max_entries: int = 2048) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Version, bytes]] = OrderedDict()
        self._version: Version | None = None
        self._checked_at = 0.0
        self._lock = Lock()

    def peek(self, key: str) -> bytes | None:
        """The response, if the checkpoint was confirmed within `ttl` and the entry is of it."""
        with self._lock:
            if self._version is None or time.monotonic() - self._checked_at > self.ttl:
                return None
            entry = self._entries.get(key)
            return entry[1] if entry is not None and entry[0] == self._version else None

    def get_or_build(self, session: Session, key: str, build: Callable[[], bytes]) -> bytes:
        version = repository.checkpoint_version(session, PROJECTION_NAME)
        with self._lock:
            self._version, self._checked_at = version, time.monotonic()
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
