"""The worker serves its pool's webhook metrics, summed over its processes, for Prometheus."""

import httpx

from tests.conftest import wait_for
from tests.test_webhooks import subscribe
from tests.test_webhooks_receiver import receiver

__all__ = ["receiver"]


def scrape(port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def delivered_count(text: str) -> float:
    for line in text.splitlines():
        if line.startswith('stance_webhook_deliveries_total{outcome="delivered"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_worker_metrics_count_deliveries_and_time_attempts(client, auth, worker, receiver):
    before = delivered_count(scrape(worker.metrics_port))
    subscription = await subscribe(client, auth, receiver)
    sent = await client.post(f"/v1/subscriptions/{subscription['id']}/test", headers=auth)
    assert sent.status_code == 202, sent.text
    wait_for(lambda: receiver.of_type("ping"), message="the ping")

    def counted() -> str | None:
        text = scrape(worker.metrics_port)
        return text if delivered_count(text) >= before + 1 else None

    text = wait_for(counted, message="the delivery counted in the worker's metrics")
    assert "stance_webhook_attempt_latency_seconds_count" in text
    assert 'stance_webhook_attempts_total{result="success"}' in text
