"""The OpenAPI document, with the schemas of request bodies that endpoints read themselves.

The article endpoints parse their bodies by content type (JSON, text, HTML) instead of letting
FastAPI do it, so FastAPI never sees `ArticleIn` and would leave the `$ref`s to it dangling.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

REF_TEMPLATE = "#/components/schemas/{model}"


def install_openapi(app: FastAPI, body_models: Sequence[type[BaseModel]]) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in body_models:
                model_schema = model.model_json_schema(ref_template=REF_TEMPLATE)
                for name, definition in model_schema.pop("$defs", {}).items():
                    components.setdefault(name, definition)
                components[model.__name__] = model_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
