"""Prometheus metrics of webhook delivery.

Counters and the latency histogram live in the process that sends (the worker); the outbox depth
is read from PostgreSQL at scrape time, so the API's `/metrics` reports it whichever process sends.
"""

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.logging import get_logger

log = get_logger(__name__)

DELIVERIES = Counter(
    "stance_webhook_deliveries",
    "Webhook deliveries settled, by outcome (delivered, failed).",
    ["outcome"],
)
ATTEMPTS = Counter(
    "stance_webhook_attempts",
    "Webhook delivery attempts, by result (success, retry, failed, gone).",
    ["result"],
)
ATTEMPT_LATENCY = Histogram(
    "stance_webhook_attempt_latency_seconds",
    "Time from sending a webhook request to its response (or error).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class OutboxDepthCollector(Collector):
    def describe(self) -> list[GaugeMetricFamily]:
        return []  # keeps registration from querying the database at import time

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from services.db import get_sessionmaker
        from services.webhooks import repository

        gauge = GaugeMetricFamily(
            "stance_webhook_outbox_depth",
            "Deliveries not yet settled, by status (pending: never tried; retrying: waiting for a retry).",
            labels=["status"],
        )
        try:
            with get_sessionmaker()() as session:
                counts = repository.outstanding_counts(session)
        except Exception as exc:  # a scrape must not fail because the database is briefly away
            log.warning("outbox depth unavailable", error=str(exc))
            return
        for status, count in counts.items():
            gauge.add_metric([status], count)
        yield gauge


_registered = False


def register_outbox_collector() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(OutboxDepthCollector())
        _registered = True
