"""The subscriptions API (admin scope)."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.api.deps import AdminPrincipal, SessionDep, SettingsDep
from services.api.fields import to_utc
from services.api.jsonbody import LimitedJsonRoute
from services.api.pagination import decode_cursor, encode_cursor, split_page
from services.api.problems import NotFound, Problem
from services.models import WebhookDelivery, WebhookSubscription
from services.webhooks import metrics, replay, service, signing
from services.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    ReplayResult,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionUpdate,
)
from services.webhooks.service import DeliveryConflict, InvalidSubscription, KnownIds

router = APIRouter(prefix="/v1", tags=["webhooks"], route_class=LimitedJsonRoute)
metrics.register_outbox_collector()

Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]


def get_known_ids(settings: SettingsDep) -> KnownIds:
    return service.known_ids(settings)


KnownIdsDep = Annotated[KnownIds, Depends(get_known_ids)]


def _subscription_out(subscription: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut.model_validate(subscription, from_attributes=True)


def _delivery_out(delivery: WebhookDelivery, attempts: list[AttemptOut]) -> DeliveryOut:
    outstanding = delivery.status in ("pending", "retrying")
    return DeliveryOut(
        id=delivery.id,
        webhook_id=signing.message_id(delivery.id),
        subscription_id=delivery.subscription_id,
        event_type=delivery.event_type,
        event_position=delivery.event_position,
        replay=delivery.replay,
        status=delivery.status,  # type: ignore[arg-type]
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at if outstanding else None,
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        payload=delivery.payload,
        attempts=attempts,
    )


def _deliveries_out(session: SessionDep, deliveries: list[WebhookDelivery]) -> list[DeliveryOut]:
    attempts = service.attempts_for(session, [d.id for d in deliveries])
    return [
        _delivery_out(d, [AttemptOut.model_validate(a, from_attributes=True) for a in attempts[d.id]])
        for d in deliveries
    ]


def _invalid(exc: ValueError) -> Problem:
    return Problem(422, str(exc), title="Invalid subscription")


def _require(session: SessionDep, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = service.get_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound("subscription", subscription_id)
    return subscription


@router.post(
    "/subscriptions",
    response_model=SubscriptionCreated,
    status_code=201,
    summary="Subscribe a webhook endpoint to position changes; the signing secret is shown only here",
)
def create_subscription(
    request: SubscriptionCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    ids: KnownIdsDep,
    _: AdminPrincipal,
) -> SubscriptionCreated:
    try:
        subscription = service.create_subscription(session, request, settings, ids)
    except InvalidSubscription as exc:
        raise _invalid(exc) from exc
    response.headers["Location"] = f"/v1/subscriptions/{subscription.id}"
    return SubscriptionCreated(**_subscription_out(subscription).model_dump(), secret=subscription.secret)


@router.get("/subscriptions", response_model=SubscriptionPage, summary="Webhook subscriptions, oldest first")
def list_subscriptions(
    session: SessionDep, _: AdminPrincipal, cursor: str | None = None, limit: Limit = 100
) -> SubscriptionPage:
    key = decode_cursor(cursor, 2)
    after = None
    if key is not None:
        try:
            after = (datetime.fromisoformat(str(key[0])), uuid.UUID(str(key[1])))
        except ValueError as exc:
            raise Problem(
                400, "The cursor is not one this API issued; pass `next_cursor` unchanged."
            ) from exc
    items, last = split_page(service.list_subscriptions(session, after, limit + 1), limit)
    next_cursor = encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None
    return SubscriptionPage(items=[_subscription_out(s) for s in items], next_cursor=next_cursor)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut, summary="One subscription")
def get_subscription(subscription_id: uuid.UUID, session: SessionDep, _: AdminPrincipal) -> SubscriptionOut:
    return _subscription_out(_require(session, subscription_id))


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Change a subscription's URL, filters or description; `enabled: true` re-enables it",
)
def update_subscription(
    subscription_id: uuid.UUID,
    request: SubscriptionUpdate,
    session: SessionDep,
    settings: SettingsDep,
    ids: KnownIdsDep,
    _: AdminPrincipal,
) -> SubscriptionOut:
    try:
        subscription = service.update_subscription(session, subscription_id, request, settings, ids)
    except InvalidSubscription as exc:
        raise _invalid(exc) from exc
    if subscription is None:
        raise NotFound("subscription", subscription_id)
    return _subscription_out(subscription)


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=204,
    summary="Delete a subscription with its deliveries",
)
def delete_subscription(subscription_id: uuid.UUID, session: SessionDep, _: AdminPrincipal) -> Response:
    if not service.delete_subscription(session, subscription_id):
        raise NotFound("subscription", subscription_id)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    response_model=SecretRotated,
    summary="Issue a new signing secret; the old one keeps signing alongside it for a grace period",
)
def rotate_secret(
    subscription_id: uuid.UUID, session: SessionDep, settings: SettingsDep, _: AdminPrincipal
) -> SecretRotated:
    subscription = service.rotate_secret(session, subscription_id, settings)
    if subscription is None:
        raise NotFound("subscription", subscription_id)
    return SecretRotated(
        secret=subscription.secret, previous_secret_expires_at=subscription.previous_secret_expires_at
    )


@router.post(
    "/subscriptions/{subscription_id}/test",
    response_model=DeliveryOut,
    status_code=202,
    summary="Send a signed `ping` event through the normal delivery path",
)
def send_test(subscription_id: uuid.UUID, session: SessionDep, _: AdminPrincipal) -> DeliveryOut:
    try:
        delivery = service.send_ping(session, subscription_id)
    except DeliveryConflict as exc:
        raise Problem(409, str(exc)) from exc
    if delivery is None:
        raise NotFound("subscription", subscription_id)
    return _delivery_out(delivery, [])


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    response_model=DeliveryPage,
    summary="A subscription's deliveries, newest first, each with its attempts",
)
def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    _: AdminPrincipal,
    status: Annotated[
        list[DeliveryStatus] | None, Query(description="Only these statuses; repeatable.")
    ] = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> DeliveryPage:
    _require(session, subscription_id)
    key = decode_cursor(cursor, 1)
    if key is not None and not (isinstance(key[0], int) and 0 <= key[0] < 2**63):
        raise Problem(400, "The cursor is not one this API issued; pass `next_cursor` unchanged.")
    deliveries, last = split_page(
        service.list_deliveries(session, subscription_id, status, key[0] if key else None, limit + 1), limit
    )
    next_cursor = encode_cursor(last.sequence) if last else None
    return DeliveryPage(items=_deliveries_out(session, deliveries), next_cursor=next_cursor)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=202,
    summary="Send a delivery again, with the same webhook-id and a fresh round of retries",
)
def redeliver(delivery_id: uuid.UUID, session: SessionDep, _: AdminPrincipal) -> DeliveryOut:
    try:
        delivery = service.redeliver(session, delivery_id)
    except DeliveryConflict as exc:
        raise Problem(409, str(exc)) from exc
    if delivery is None:
        raise NotFound("delivery", delivery_id)
    (out,) = _deliveries_out(session, [delivery])
    return out


MAX_POSITION = 2**63 - 1


def _parse_since(since: str) -> tuple[int | None, datetime | None]:
    value = since.strip()
    invalid = Problem(
        422,
        f"`since` must be an event position (an integer from 0 to {MAX_POSITION}) or an ISO 8601 time "
        f"between years 1 and 9999 in UTC, not {since!r}.",
        title="Invalid replay",
    )
    # isdigit() alone is true for '³' and '٣', which are no ASCII position.
    if value.isascii() and value.isdigit():
        if len(value) > 19 or int(value) > MAX_POSITION:
            raise invalid
        return int(value), None
    try:
        return None, to_utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise invalid from exc


@router.post(
    "/subscriptions/{subscription_id}/replay",
    response_model=ReplayResult,
    status_code=202,
    summary="Send again every matching position change after `since` (new webhook-ids, marked as replays)",
)
def replay_changes(
    subscription_id: uuid.UUID,
    session: SessionDep,
    _: AdminPrincipal,
    since: Annotated[
        str,
        Query(
            description="An event position (changes after it) or an ISO 8601 time (changes recorded after it)"
        ),
    ],
) -> ReplayResult:
    position, moment = _parse_since(since)
    subscription = _require(session, subscription_id)
    if not subscription.enabled:
        raise Problem(409, 'The subscription is disabled; PATCH it with {"enabled": true} first.')
    changes = replay.changes_since(session, subscription, position, moment)
    created = service.queue_replay(session, subscription, changes)
    return ReplayResult(created=len(created), delivery_ids=created)
