"""Service benchmark: projector, ingest, read latency and article-to-webhook latency.

Runs against the machine's PostgreSQL/Redis when they answer, else the embedded ones, in a
database of its own. Every figure is printed next to a baseline measured in the same run.
    .venv/bin/python benchmarks/bench_service.py [--quick]
"""

import argparse
import asyncio
import http.server
import json
import os
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
        f"(goal >= 5,000); bare read of the same log {read / baseline:,.0f} events/s; ratio {elapsed / baseline:.1f}x"
    )


async def timed_requests(client, method: str, path: str, bodies, concurrency: int, **kw) -> list[float]:
    queue: asyncio.Queue = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []

    async def runner() -> None:
        while not queue.empty():
            body = queue.get_nowait()
            t0 = time.perf_counter()
            response = await client.request(method, path, json=body, **kw)
            latencies.append(time.perf_counter() - t0)
            if response.status_code >= 400:
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(runner() for _ in range(concurrency)))
    return latencies


async def open_loop(client, path: str, rate: float, seconds: float, headers) -> list[float]:
    latencies: list[float] = []
    tasks = []

    async def one() -> None:
        t0 = time.perf_counter()
        response = await client.get(path, headers=headers)
        latencies.append(time.perf_counter() - t0)
        response.raise_for_status()

    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    return latencies


async def bench_http(base: str, key: str, articles: int, read_seconds: float) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        await timed_requests(client, "GET", "/healthz", [None] * 200, 32)
        started = time.perf_counter()
        await timed_requests(client, "GET", "/healthz", [None] * articles, 32)
        baseline = time.perf_counter() - started
        bodies = [
            {
                "body": f"Article {i} {uuid.uuid4()}: Moscow said it would not accept the ceasefire proposal, "
                "officials in Kyiv said on Monday, as talks with the United States continued.",
                "published_at": "2025-03-01T00:00:00Z",
            }
            for i in range(articles)
        ]
        started = time.perf_counter()
        await timed_requests(client, "POST", "/v1/articles", bodies, 32)
        elapsed = time.perf_counter() - started
        print(
            f"ingest: {articles / elapsed:,.0f} articles/s accepted (goal >= 500); "
            f"/healthz with the same client {articles / baseline:,.0f} req/s; ratio {elapsed / baseline:.1f}x"
        )
        base_lat = await open_loop(client, "/healthz", 300, read_seconds, headers)
        read_lat = await open_loop(client, "/v1/positions?topic=topic-3&limit=50", 300, read_seconds, headers)
        print(
            f"read: GET /v1/positions at 300 req/s p50 {statistics.median(read_lat) * 1000:.1f} ms, "
            f"p99 {percentile(read_lat, 0.99) * 1000:.1f} ms (goal < 25 ms); "
            f"/healthz p99 {percentile(base_lat, 0.99) * 1000:.1f} ms; "
            f"ratio {percentile(read_lat, 0.99) / percentile(base_lat, 0.99):.1f}x"
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
        asyncio.run(bench_http(f"http://127.0.0.1:{port}", key, 500 if args.quick else 2000, 3 if args.quick else 10))
    finally:
        if api is not None:
            api.terminate()
            api.wait()
        get_engine().dispose()
        with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1].split("?")[0]}" WITH (FORCE)')


if __name__ == "__main__":
    main()
