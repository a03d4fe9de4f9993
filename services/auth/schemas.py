import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")


class Principal(BaseModel):
    key_id: uuid.UUID
    name: str
    scopes: list[Scope]


class ApiKeyCreate(BaseModel):
    name: str = Field(default="api key", min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret; shown only in this response.")
