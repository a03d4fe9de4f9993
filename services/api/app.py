from fastapi import FastAPI

from services.api.health import router as health_router
from services.api.problems import install_problem_handlers
from services.api.web import router as web_router
from services.articles.endpoints import router as articles_router
from services.auth.endpoints import router as keys_router
from services.eventstore.endpoints import router as events_router
from services.logging import configure_logging
from services.positions.endpoints import router as positions_router
from services.webhooks.endpoints import router as webhooks_router


def create_app() -> FastAPI:
    configure_logging()
    app = FastAPI(
        title="Stance Tracker",
        version="0.1.0",
        description="Who stands where, read from the news: positions with their evidence, and their history.",
    )
    install_problem_handlers(app)
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
    return app


app = create_app()
