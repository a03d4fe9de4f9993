import uuid

import psycopg
from sqlalchemy import inspect

from services.db import get_engine
from services.migrate import check, upgrade
from tests.conftest import _libpq, _state, _with_database


def test_migrations_build_an_empty_database_and_match_the_models():
    name = f"stance_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(_state["admin_url"], name)
    try:
        upgrade(url)
        check(url)  # raises when the models and the migrations disagree
        tables = set(inspect(get_engine(url)).get_table_names())
        assert {"events", "articles", "current_positions", "position_history", "api_keys"} <= tables
    finally:
        get_engine(url).dispose()
        with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
