import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from services import queue
from services.api.health import router as health_router
from services.api.middleware import RejectNulBytes, SecurityHeaders
from services.api.openapi import install_openapi
from services.api.problems import install_problem_handlers
from services.api.web import router as web_router
from services.articles.endpoints import OPENAPI_BODY_MODELS
from services.articles.endpoints import router as articles_router
from services.auth import service as auth_service
from services.auth.endpoints import router as keys_router
from services.eventstore.endpoints import router as events_router
from services.logging import configure_logging
from services.positions.endpoints import response_cache
from services.positions.endpoints import router as positions_router
from services.settings import get_settings
from services.webhooks.endpoints import router as webhooks_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    watcher = None
    if settings.read_cache_seconds > 0 and settings.database_url:
        dsn = settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        watcher = asyncio.create_task(response_cache().watch(dsn))
    metrics_server = None
    if settings.metrics_port:
        from prometheus_client import start_http_server

        # A plain HTTP server beside the API, for a port the scraper reaches and clients do not.
        metrics_server, _ = start_http_server(settings.metrics_port, addr=settings.host)
    listener = None
    if settings.database_url:
        # Publishes the messages requests write to the outbox, and any another process left.
        queue.start_relay()
        dsn = settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        listener = asyncio.create_task(auth_service.listen_for_revocations(dsn))
    yield
    for task in (watcher, listener):
        if task is not None:
            task.cancel()
    queue.relay.stop()
    if metrics_server is not None:
        metrics_server.shutdown()
        metrics_server.server_close()


class StanceAPI(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's ServerErrorMiddleware, so that even an unhandled error's 500 carries
        # the security headers: add_middleware would put them inside it.
        return SecurityHeaders(super().build_middleware_stack())


def create_app() -> FastAPI:
    configure_logging()
    app = StanceAPI(
        lifespan=lifespan,
        docs_url=None,  # services.api.web serves /docs under its own Content-Security-Policy
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        title="Stance Tracker",
        version="0.1.0",
        description="Who stands where, read from the news: positions with their evidence, and their history.",
    )
    install_problem_handlers(app)
    app.add_middleware(RejectNulBytes)
    for router in (
        health_router,
        web_router,
        articles_router,
        positions_router,
        events_router,
        keys_router,
        webhooks_router,
    ):
        app.include_router(router)
    install_openapi(app, OPENAPI_BODY_MODELS)
    return app


app = create_app()
