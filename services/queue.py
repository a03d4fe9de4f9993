"""Enqueue work for the Celery workers, only once the caller's transaction has committed."""

from typing import Any

from sqlalchemy.orm import Session

from services.db import after_commit


def send(task_name: str, *args: Any, countdown: float | None = None) -> None:
    from workers.app import celery_app

    celery_app.send_task(task_name, args=args, countdown=countdown)


def enqueue(session: Session, task_name: str, *args: Any, countdown: float | None = None) -> None:
    after_commit(session, lambda: send(task_name, *args, countdown=countdown))
