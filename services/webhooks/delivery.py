"""Sending one outbox delivery: sign, POST to the checked address, record the attempt, plan what next."""

import email.utils
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx
from sqlalchemy.orm import Session

from services import queue
from services.logging import get_logger
from services.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from services.settings import Settings
from services.webhooks import metrics, repository, signing, ssrf
from services.webhooks.service import DELIVER_TASK, disable, now, signing_secrets

log = get_logger(__name__)

RESPONSE_BODY_LIMIT = 1024
MAX_RETRY_AFTER_SECONDS = 24 * 3600
JITTER = 0.1
USER_AGENT = "StanceTracker-Webhooks/1"

Outcome = Literal["delivered", "retrying", "failed", "skipped", "not_due", "waiting", "locked", "disabled"]


@dataclass(frozen=True)
class Response:
    """What one HTTP attempt came to."""

    status_code: int | None
    latency_ms: float | None
    error: str | None
    body: str | None
    retry_after: float | None = None
    connect_failed: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def request_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def parse_retry_after(value: str | None, at: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, moment.timestamp() - at), MAX_RETRY_AFTER_SECONDS)


def post(target: ssrf.Target, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST to an address that passed the SSRF check, never following redirects.

    The addresses are tried in resolver order until one accepts the connection, as a browser
    would, but only those that were checked.
    """
    response = Response(None, None, "no address to connect to", None)
    for address in target.addresses:
        response = _post_to(target, address, body, headers, timeout)
        if not response.connect_failed:
            return response
    return response


def _post_to(
    target: ssrf.Target, address: ssrf.IPAddress, body: bytes, headers: dict[str, str], timeout: float
) -> Response:
    url = httpx.URL(target.url)
    # The connection goes to the checked address; the Host header and TLS name stay the URL's.
    host = url.raw_host.decode("ascii")  # IDNA-encoded, as it goes on the wire
    host_header = f"[{host}]" if ":" in host else host
    if url.port is not None:  # httpx leaves the port out when it is the scheme's default
        host_header += f":{url.port}"
    pinned = url.copy_with(host=str(address))
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    request_headers = {
        **headers,
        "host": host_header,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST", pinned, content=body, headers=request_headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                latency_ms = (time.perf_counter() - started) * 1000
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= RESPONSE_BODY_LIMIT:
                        break
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        latency_ms = (time.perf_counter() - started) * 1000
        return Response(None, latency_ms, f"timeout after {timeout:g}s ({type(exc).__name__})", None)
    except httpx.ConnectError as exc:
        latency_ms = (time.perf_counter() - started) * 1000
        return Response(None, latency_ms, f"cannot connect to {address}: {exc}", None, connect_failed=True)
    except httpx.HTTPError as exc:
        latency_ms = (time.perf_counter() - started) * 1000
        return Response(None, latency_ms, f"{type(exc).__name__}: {exc}", None)
    text = b"".join(chunks)[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace")
    error = None
    if 300 <= response.status_code < 400:
        location = response.headers.get("location", "")
        error = (
            f"redirect ({response.status_code}) to {location!r} not followed; "
            "point the subscription at the final URL"
        )
    elif not 200 <= response.status_code < 300:
        error = f"HTTP {response.status_code}"
    retry_after = None
    if response.status_code in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"), time.time())
    return Response(response.status_code, latency_ms, error, text, retry_after)


def attempt(session: Session, delivery_id: uuid.UUID, settings: Settings) -> Outcome:
    """Make the next attempt at one delivery, if it is due and first in its subscription's line.

    Holding the row lock through the request means two workers never send one delivery at once;
    a worker that dies mid-request leaves the row as it was, for `dispatch_due` to pick up.
    """
    delivery = repository.lock_delivery(session, delivery_id)
    if delivery is None:
        return "locked"  # or gone: another worker holds it, or its subscription was deleted
    if delivery.status not in repository.OUTSTANDING:
        return "skipped"
    moment = now()
    if delivery.next_attempt_at > moment:
        # Early (a retry's countdown fired before its time): come back when it is due.
        wait = (delivery.next_attempt_at - moment).total_seconds()
        queue.enqueue(session, DELIVER_TASK, str(delivery.id), countdown=wait)
        return "not_due"
    subscription = repository.get_subscription_for_update(session, delivery.subscription_id)
    if subscription is None:
        return "skipped"
    if not subscription.enabled:
        return "disabled"  # waits; re-enabling the subscription sends it
    if repository.has_earlier_outstanding(session, delivery):
        return "waiting"  # the earlier delivery hands over to this one when it settles
    response = _send(delivery, subscription, settings)
    return _settle(session, delivery, subscription, response, settings)


def _send(delivery: WebhookDelivery, subscription: WebhookSubscription, settings: Settings) -> Response:
    try:
        target = ssrf.resolve(subscription.url, settings.webhook_allowed_hosts)
    except ssrf.UnsafeUrl as exc:  # recorded as a failed attempt; nothing was connected to
        return Response(None, None, str(exc), None)
    body = request_body(delivery)
    timestamp = int(time.time())
    headers = signing.signed_headers(
        signing_secrets(subscription, now()), signing.message_id(delivery.id), timestamp, body
    )
    response = post(target, body, headers, settings.webhook_timeout_seconds)
    if response.latency_ms is not None:
        metrics.ATTEMPT_LATENCY.observe(response.latency_ms / 1000)
    return response


def _retry_delay(attempt_number: int, settings: Settings, retry_after: float | None) -> float | None:
    """Seconds until the next attempt after failed attempt `attempt_number`, or None when out of tries."""
    schedule = settings.webhook_retry_schedule
    if attempt_number > len(schedule):
        return None
    if retry_after is not None:
        return retry_after
    base = schedule[attempt_number - 1]
    return max(0.0, base * random.uniform(1 - JITTER, 1 + JITTER))


def _settle(
    session: Session,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    response: Response,
    settings: Settings,
) -> Outcome:
    moment = now()
    repository.add_attempt(
        session,
        WebhookDeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=moment,
            status_code=response.status_code,
            latency_ms=round(response.latency_ms, 2) if response.latency_ms is not None else None,
            error=response.error[:2000] if response.error else None,
            response_body=response.body,
        ),
    )
    delivery.attempt_count += 1
    delivery.last_attempt_at = moment
    delivery.last_error = response.error
    outcome: Outcome
    if response.ok:
        delivery.status = "delivered"
        delivery.delivered_at = moment
        subscription.failing_since = None
        metrics.ATTEMPTS.labels("success").inc()
        metrics.DELIVERIES.labels("delivered").inc()
        outcome = "delivered"
    elif response.status_code == 410:
        delivery.status = "failed"
        disable(
            subscription,
            f"The endpoint answered 410 Gone at {moment.isoformat()}; PATCH enabled=true to resume.",
        )
        metrics.ATTEMPTS.labels("gone").inc()
        metrics.DELIVERIES.labels("failed").inc()
        outcome = "failed"
    else:
        subscription.failing_since = subscription.failing_since or moment
        delay = _retry_delay(delivery.attempt_count, settings, response.retry_after)
        if delay is None:
            delivery.status = "failed"
            metrics.ATTEMPTS.labels("failed").inc()
            metrics.DELIVERIES.labels("failed").inc()
            outcome = "failed"
        else:
            delivery.status = "retrying"
            delivery.next_attempt_at = moment + timedelta(seconds=delay)
            queue.enqueue(session, DELIVER_TASK, str(delivery.id), countdown=delay)
            metrics.ATTEMPTS.labels("retry").inc()
            outcome = "retrying"
        _disable_if_failing_too_long(subscription, moment, settings, response.error)
    session.flush()
    log.info(
        "webhook attempt",
        delivery_id=str(delivery.id),
        subscription_id=str(subscription.id),
        attempt=delivery.attempt_count,
        status_code=response.status_code,
        outcome=outcome,
        error=response.error,
    )
    return outcome


def _disable_if_failing_too_long(
    subscription: WebhookSubscription, moment: datetime, settings: Settings, error: str | None
) -> None:
    failing_since = subscription.failing_since
    if failing_since is None or not subscription.enabled:
        return
    if (moment - failing_since).total_seconds() >= settings.webhook_disable_after_seconds:
        disable(
            subscription,
            f"Every delivery failed since {failing_since.isoformat()} (last error: {error}); "
            "fix the endpoint, then PATCH enabled=true to resume.",
        )


def subscription_of(session: Session, delivery_id: uuid.UUID) -> uuid.UUID | None:
    found = repository.get_delivery(session, delivery_id)
    return found.subscription_id if found is not None else None
