from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from services.auth import service as auth_service
from services.auth.schemas import Principal, Scope
from services.db import get_read_sessionmaker, get_sessionmaker
from services.settings import Settings, get_settings


async def settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings)]


async def get_session() -> AsyncIterator[Session]:
    """The request's unit of work: committed when the endpoint returns, rolled back on error.

    Async so that opening it costs no thread hop; the commit runs in a worker thread.
    """
    session = get_sessionmaker()()
    try:
        yield session
        await run_in_threadpool(session.commit)
    except BaseException:
        await run_in_threadpool(session.rollback)
        raise
    finally:
        await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session() -> AsyncIterator[Session]:
    # Async so that opening it costs no thread hop; the endpoint's queries run in its own thread.
    session = get_read_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def require_scope(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    async def dependency(request: Request, session: ReadSessionDep) -> Principal:
        header = request.headers.get("authorization")
        principal = auth_service.authorize_from_cache(header, scope)
        if principal is None:
            principal = await run_in_threadpool(auth_service.authorize, session, header, scope)
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


ReadPrincipal = Annotated[Principal, Depends(require_scope("read"))]
IngestPrincipal = Annotated[Principal, Depends(require_scope("ingest"))]
AdminPrincipal = Annotated[Principal, Depends(require_scope("admin"))]
