"""A receiver that fails half its calls still gets every position change, in order, verified."""

from tests.conftest import wait_for
from tests.factories import claim
from tests.test_webhooks import all_settled, deliveries, publish, subscribe
from tests.test_webhooks_receiver import receiver

__all__ = ["receiver"]


async def test_every_change_arrives_at_least_once_when_half_the_calls_fail(client, auth, worker, receiver):
    receiver.script = [500, 200] * 20  # every other request fails
    subscription = await subscribe(client, auth, receiver, actors=["russia"])
    stances = ["oppose", "conditional", "support", "oppose", "support", "conditional"]
    publish(*[[claim(stance=stance, quote=f"Moscow, step {i}.")] for i, stance in enumerate(stances)])

    wait_for(
        lambda: all_settled(subscription["id"], len(stances)), timeout=90, message="every delivery settled"
    )
    sent = deliveries(subscription["id"])
    assert [d.status for d in sent] == ["delivered"] * len(stances)
    changes = receiver.of_type("position.changed")
    assert all(r.verified for r in receiver.received)
    assert [r.payload["data"]["current"]["stance"] for r in changes] == stances
    positions = [r.payload["data"]["event_position"] for r in changes]
    assert positions == sorted(positions)
    assert any(r.answered == 500 for r in receiver.received), "the receiver never failed"
    assert {r.webhook_id for r in changes} == {r.webhook_id for r in receiver.received}
