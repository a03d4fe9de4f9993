"""Serialised read responses, valid for as long as the projection checkpoint has not moved.

Every read table changes only when the projector advances its checkpoint, so a response built at
checkpoint N is exactly what a fresh query returns while the checkpoint is still N. A request
then costs one primary-key lookup instead of its queries and serialisation.
"""

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from threading import Lock

from sqlalchemy.orm import Session

from services.positions import repository
from services.positions.projector import PROJECTION_NAME


class ProjectionCache:
    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[tuple[int, datetime | None], bytes]] = OrderedDict()
        self._lock = Lock()

    def get_or_build(self, session: Session, key: str, build: Callable[[], bytes]) -> bytes:
        version = repository.checkpoint_version(session, PROJECTION_NAME)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == version:
                self._entries.move_to_end(key)
                return entry[1]
        # Built after reading the version, so it can only be newer than what it is filed under;
        # the next request then sees a moved checkpoint and rebuilds.
        body = build()
        with self._lock:
            self._entries[key] = (version, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body


responses = ProjectionCache()
