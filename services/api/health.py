import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.api.deps import SessionDep, SettingsDep
from services.api.problems import DATABASE_RETRY_AFTER_SECONDS, Problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database and the broker answer")
def readyz(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    import redis

    checks: dict[str, str] = {}
    try:
        session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        client = redis.Redis.from_url(
            settings.require_redis_url(), socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        client.close()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    if any(value != "ok" for value in checks.values()):
        problem = Problem(
            503, "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items()), checks=checks
        )
        problem.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        raise problem
    return {"status": "ok", "checks": checks}


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
def metrics(request: Request, settings: SettingsDep) -> Response:
    if settings.metrics_port:
        # Served on its own port (see services.api.app), e.g. one only the scraper can reach.
        raise Problem(404, f"Metrics are served on port {settings.metrics_port}, not here.")
    if settings.metrics_key:
        supplied = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), settings.metrics_key.encode()):
            problem = Problem(
                401, "Send the metrics key as `Authorization: Bearer <key>`.", title="Unauthorized"
            )
            problem.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            raise problem
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
