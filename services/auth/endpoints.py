import uuid

from fastapi import APIRouter, Response

from services.api.deps import AdminPrincipal, SessionDep
from services.api.jsonbody import LimitedJsonRoute
from services.api.problems import NotFound
from services.auth import repository, service
from services.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=LimitedJsonRoute)


@router.post("", response_model=ApiKeyCreated, status_code=201, summary="Create an API key (shown once)")
def create_key(body: ApiKeyCreate, session: SessionDep, _: AdminPrincipal) -> ApiKeyCreated:
    return service.create_key(session, body.scopes, body.name)


@router.get("", response_model=list[ApiKeyOut], summary="List API keys (never their secrets)")
def list_keys(session: SessionDep, _: AdminPrincipal) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(row, from_attributes=True) for row in repository.list_keys(session)]


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
def revoke_key(key_id: uuid.UUID, session: SessionDep, _: AdminPrincipal) -> Response:
    if not service.revoke_key(session, key_id):
        raise NotFound("active API key", key_id)
    return Response(status_code=204)
