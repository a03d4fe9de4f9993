"""The Celery application: Redis as broker, PostgreSQL as the only source of truth."""

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

from services.logging import get_logger
from services.settings import get_settings

log = get_logger(__name__)


def create_celery() -> Celery:
    settings = get_settings()
    app = Celery(
        "stance",
        broker=settings.redis_url or "redis://127.0.0.1:6379/0",
        include=["workers.tasks", "workers.webhook_tasks"],
    )
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # Prefetching a few keeps a busy pool fed; with a prefetch of one, kombu's Redis poller
        # idled up to a second between tasks (article-to-webhook p50 1.3 s against 0.1 s).
        worker_prefetch_multiplier=4,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # Messages a dead worker had taken (prefetched or running) go back to the queue after
            # this long: sized to a task (extraction takes seconds), not to the stuck-article sweep.
            # A task that outlives it runs once more elsewhere, which is harmless: every task is
            # idempotent and the article's row lock serialises the two.
            "visibility_timeout": settings.broker_visibility_timeout_seconds,
            # Look for such messages every 2 s (kombu's default comes to every 100 s).
            "unacked_restore_interval": 2,
            "unacked_restore_throttle": 1,
            # A broker that stops answering fails a publish or a poll in seconds instead of
            # hanging it; the outbox relay and the consumer then retry.
            "socket_timeout": 5,
            "socket_connect_timeout": 2,
        },
        broker_connection_timeout=2,
        task_default_queue=settings.queue,
        beat_schedule={
            "project-positions": {
                "task": "projections.run",
                "schedule": settings.projector_interval_seconds,
            },
            "requeue-stuck-articles": {
                "task": "articles.requeue_stuck",
                "schedule": max(5.0, settings.stuck_article_seconds / 4),
            },
            "dispatch-due-webhooks": {
                "task": "webhooks.dispatch_due",
                "schedule": 10.0,
            },
        },
        timezone="UTC",
    )
    return app


celery_app = create_celery()


@worker_init.connect
def _serve_metrics(**_: object) -> None:
    """Serve the pool's metrics (webhook deliveries, attempt latency) summed over its processes.

    Pool processes write their counters to PROMETHEUS_MULTIPROC_DIR, which `stance worker` sets.
    """
    port = get_settings().worker_metrics_port
    if not port or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(port, addr=get_settings().host, registry=registry)
    except OSError as exc:  # another worker on this host has the port; its metrics still serve
        log.warning("worker metrics not served", port=port, error=str(exc))


@worker_init.connect
def _load_extractor(**_: object) -> None:
    # Loaded in the parent so forked pool processes share the model instead of each loading it.
    from services.extraction.service import get_extractor

    get_extractor(get_settings().domain_pack)


@worker_process_init.connect
def _start_outbox_relay(**_: object) -> None:
    # Each pool process writes outbox rows (projector wake-ups, webhook deliveries) and relays them.
    from services.queue import start_relay

    start_relay()
