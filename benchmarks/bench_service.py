"""Service benchmark: projector, ingest, read latency and article-to-webhook latency.

Runs against the machine's PostgreSQL/Redis when they answer, else the embedded ones, in a
database of its own. Every figure is printed next to a baseline measured in the same run.
    .venv/bin/python benchmarks/bench_service.py [--quick]
"""

import argparse
import http.client
import http.server
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def setup_infra(home: Path) -> tuple[str, str, str]:
    if port_open(5432):
        admin = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    else:
        from services.runtime.embedded import start_postgres

        admin = start_postgres(home)
    if port_open(6379):
        redis_url = "redis://127.0.0.1:6379/0"
    else:
        from services.runtime.embedded import start_redis

        redis_url = start_redis(home).url
    name = f"stance_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name if "?" not in admin else admin.replace("/stance?", f"/{name}?")
    return admin, url, redis_url


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_projector(events: int) -> None:
    from services.db import session_scope
    from services.eventstore import service as store
    from services.eventstore.schemas import NewEvent
    from services.positions import projector

    stances = ["support", "oppose", "conditional"]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    per_append = 10
    with session_scope() as session:
        for n in range(events // per_append):
            stream = f"actor:bench-{n % 200}"
            version = len(store.read_stream(session, stream)) if n < 200 else (n // 200) * per_append
            batch = []
            for k in range(per_append):
                i = n * per_append + k
                batch.append(
                    NewEvent(
                        type="StanceChanged",
                        data={
                            "actor": stream[6:],
                            "topic": f"topic-{i % 10}",
                            "stance": stances[i % 3],
                            "conditions": [],
                            "summary": "bench",
                            "previous": None,
                            "confidence": 0.8,
                            "evidence": {"article_id": str(uuid.uuid4()), "quote": "q", "speaker": None},
                        },
                        metadata={"bench": True},
                        causation_id=f"bench:{i}",
                        occurred_at=start + timedelta(seconds=i),
                    )
                )
            store.append(session, stream, version, batch)
    started = time.perf_counter()
    with session_scope() as session:
        read = sum(1 for _ in store.read_all(session, after=0, limit=events))
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    projected = 0
    while True:
        with session_scope() as session:
            count = projector.project_batch(session, 1000)
        projected += count
        if count < 1000:
            break
    elapsed = time.perf_counter() - started
    print(
        f"projector: {projected} events in {elapsed:.2f}s = {projected / elapsed:,.0f} events/s "
        f"(goal >= 5,000); bare read of the same log {read / baseline:,.0f} events/s; "
        f"ratio {elapsed / baseline:.1f}x"
    )


class Client:
    """A pool of keep-alive HTTP connections, reused across runs as a real client would."""

    def __init__(self, port: int, key: str, connections: int = 32) -> None:
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.pool: queue.Queue[http.client.HTTPConnection] = queue.Queue()
        for _ in range(connections):
            self.pool.put(http.client.HTTPConnection("127.0.0.1", port, timeout=30))

    def request(self, method: str, path: str, body: object = None) -> int:
        connection = self.pool.get()
        try:
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, body=payload, headers=self.headers)
            response = connection.getresponse()
            response.read()
        finally:
            self.pool.put(connection)
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status}")
        return response.status


def closed_loop(client: Client, method: str, path: str, bodies: list, threads: int) -> float:
    """Seconds to send every body with `threads` concurrent connections."""
    items = list(enumerate(bodies))
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                if not items:
                    return
                _, body = items.pop()
            client.request(method, path, body)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def open_loop(client: Client, path: str, rate: float, seconds: float, threads: int = 32) -> list[float]:
    """Latencies of requests sent on a fixed schedule, measured from when each was due."""
    due = [i / rate for i in range(int(rate * seconds))]
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def run() -> None:
        while True:
            with lock:
                if not due:
                    return
                at = start + due.pop(0)
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            client.request("GET", path)
            with lock:
                latencies.append(time.perf_counter() - at)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies


def article_body(i: int) -> dict:
    return {
        "body": f"Article {i} {uuid.uuid4()}: Moscow said it would not accept the ceasefire proposal, "
        "officials in Kyiv said on Monday, as talks with the United States continued.",
        "published_at": "2025-03-01T00:00:00Z",
    }


def bench_http(port: int, key: str, articles: int, read_seconds: float) -> None:
    client = Client(port, key)
    closed_loop(client, "GET", "/healthz", [None] * 200, 16)
    baseline = closed_loop(client, "GET", "/healthz", [None] * articles, 16)
    elapsed = closed_loop(client, "POST", "/v1/articles", [article_body(i) for i in range(articles)], 16)
    print(
        f"ingest: {articles / elapsed:,.0f} articles/s accepted one per request (goal >= 500); "
        f"/healthz {articles / baseline:,.0f} req/s with the same client; ratio {elapsed / baseline:.1f}x"
    )
    batches = [
        {"articles": [article_body(i) for i in range(n, n + 100)]} for n in range(0, articles * 2, 100)
    ]
    elapsed = closed_loop(client, "POST", "/v1/articles/batch", batches, 4)
    print(f"ingest: {articles * 2 / elapsed:,.0f} articles/s accepted in batches of 100")
    read_path = "/v1/positions?topic=topic-3&limit=50"
    for path in ("/healthz", read_path):  # open every connection and fill the caches first
        open_loop(client, path, 300, 1)
    base_lat = open_loop(client, "/healthz", 300, read_seconds)
    read_lat = open_loop(client, read_path, 300, read_seconds)
    print(
        f"read: GET /v1/positions at 300 req/s p50 {statistics.median(read_lat) * 1000:.1f} ms, "
        f"p99 {percentile(read_lat, 0.99) * 1000:.1f} ms (goal < 25 ms); "
        f"/healthz at 300 req/s p99 {percentile(base_lat, 0.99) * 1000:.1f} ms; "
        f"ratio {percentile(read_lat, 0.99) / percentile(base_lat, 0.99):.1f}x"
    )


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records when each position change arrives, keyed by the article that caused it."""

    arrivals: ClassVar[dict[str, float]] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        payload = json.loads(body)
        if payload.get("type") == "position.changed":
            Receiver.arrivals.setdefault(payload["data"]["evidence"]["article_id"], time.perf_counter())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def bench_webhooks(port: int, key: str, articles: int) -> None:
    """Articles posted at 10 per second, each moving russia/ceasefire; the time until its webhook."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    client = Client(port, key, connections=4)
    status = client.request("POST", "/v1/subscriptions", {"url": receiver_url, "actors": ["russia"]})
    assert status == 201
    floor = []
    for _ in range(50):
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1])
        t0 = time.perf_counter()
        connection.request("POST", "/hook", body=b'{"type":"ping"}', headers={"content-length": "15"})
        connection.getresponse().read()
        floor.append(time.perf_counter() - t0)
    posted: dict[str, float] = {}
    start = datetime(2025, 6, 1, tzinfo=UTC)
    for i in range(articles):
        verb = ("rejects", "accepts")[i % 2]
        body = {
            "body": f"Bulletin {i} ({uuid.uuid4().hex[:8]}). The Kremlin said that Russia {verb} "
            "the proposed ceasefire, according to a statement released in Moscow.",
            "published_at": (start + timedelta(hours=i)).isoformat(),
        }
        due = time.perf_counter() + 0.1
        connection = client.pool.get()
        connection.request("POST", "/v1/articles", body=json.dumps(body), headers=client.headers)
        response = connection.getresponse()
        article_id = json.loads(response.read())["id"]
        client.pool.put(connection)
        posted[article_id] = due - 0.1
        time.sleep(max(0.0, due - time.perf_counter()))
    deadline = time.perf_counter() + 30
    while len(Receiver.arrivals) < articles and time.perf_counter() < deadline:
        time.sleep(0.1)
    latencies = [Receiver.arrivals[a] - t for a, t in posted.items() if a in Receiver.arrivals]
    server.shutdown()
    # Two workers can finish a later article first; the earlier one is then a late observation
    # (StanceBackfilled) that moves no position and rightly sends nothing.
    changes = 0
    # A fresh connection: the pooled ones may have idled past the server's keep-alive while the
    # loop above waited for webhooks that a late (backfilled) article rightly never sends.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for article_id in posted:
        connection.request("GET", f"/v1/articles/{article_id}", headers=client.headers)
        detail = json.loads(connection.getresponse().read())
        changes += any(event["type"] == "StanceChanged" for event in detail["events"])
    connection.close()
    print(
        f"webhooks: {len(latencies)} of {changes} position changes delivered ({articles} articles, "
        f"{articles - changes} arrived out of order); article-to-webhook at 10 articles/s "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms "
        f"(goal < 2,000 ms); a bare POST to the receiver p95 {percentile(floor, 0.95) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="stance-bench-"))
    admin, url, redis_url = setup_infra(home)
    os.environ.update(
        STANCE_DATABASE_URL=url,
        STANCE_REDIS_URL=redis_url,
        STANCE_HOME=str(home),
        STANCE_QUEUE=f"bench-{uuid.uuid4().hex[:6]}",
        STANCE_LOG_LEVEL="WARNING",
        STANCE_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
    )
    from services.auth.service import create_key
    from services.db import get_engine, session_scope
    from services.migrate import upgrade

    upgrade(url)
    api = None
    try:
        bench_projector(5_000 if args.quick else 20_000)
        with session_scope() as session:
            key = create_key(session, ["ingest", "read", "admin"], "bench").key
        port = free_port()
        api = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "api"],
            env={**os.environ, "STANCE_PORT": str(port)},
            cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while not port_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        bench_http(port, key, 500 if args.quick else 2000, 3 if args.quick else 10)
        import redis

        # The ingest runs above queued thousands of extractions; measure latency on an empty queue.
        redis.Redis.from_url(redis_url).delete(os.environ["STANCE_QUEUE"])
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker"], env=os.environ.copy(), cwd=ROOT
        )
        time.sleep(8)  # the worker loads the language model before it takes tasks
        try:
            bench_webhooks(port, key, 50 if args.quick else 200)
        finally:
            worker.terminate()
            worker.wait()
    finally:
        if api is not None:
            api.terminate()
            api.wait()
        get_engine().dispose()
        with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(
                f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1].split("?")[0]}" WITH (FORCE)'
            )


if __name__ == "__main__":
    main()
