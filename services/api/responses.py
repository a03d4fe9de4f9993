from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise an already-validated model once, skipping FastAPI's second validation pass.

    Used on the hot read paths; the route keeps its `response_model` for the OpenAPI schema.
    """
    return Response(
        json_bytes(model),
        status_code=status_code,
        media_type="application/json",
    )


def json_bytes(model: BaseModel) -> bytes:
    return model.__pydantic_serializer__.to_json(model)
