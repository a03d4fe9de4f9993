"""What the schemathesis tests share: the schema and how many examples they try."""

import os

import schemathesis
from hypothesis import HealthCheck, settings

from services.api.app import app

schema = schemathesis.openapi.from_asgi("/openapi.json", app)

# CI runs a fixed set of examples so a landing never hinges on luck; STANCE_FUZZ_EXAMPLES=500
# explores further and afresh each run.
fuzz_settings = settings(
    max_examples=int(os.environ.get("STANCE_FUZZ_EXAMPLES", "40")),
    derandomize="STANCE_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
