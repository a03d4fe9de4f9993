"""The `stance` command: run the stack or any piece of it, manage keys, rebuild projections."""

import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from services.settings import Settings, get_settings

# click's names for the values an option takes, as `--help` has always shown them.
_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH", "bool": "BOOLEAN"}


class _Argument(TyperArgument):
    """An argument shown as click and man pages do: `FILES...`, no type label."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")


class _Option(TyperOption):
    """An option shown as `--format TEXT`; a flag (`--help`) shows no value at all."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        label = self.display_type(ctx).strip("<>")
        metavar = _METAVARS.get(label, label.upper())
        return metavar + "..." if self.nargs != 1 else metavar


def _conventional(params: list[Any]) -> list[Any]:
    # This Typer labels every parameter with its Python annotation (`<bool>`, `<list[Path]>`) and
    # has no setting to turn that off: the parameters it builds are given click's conventions.
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _Argument
        elif type(param) is TyperOption:
            param.__class__ = _Option
    return params


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _conventional(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _conventional(super().get_params(ctx))


class _Typer(typer.Typer):
    """Typer whose commands and groups render help conventionally (see `_conventional`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cls=_Group, **kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Any:
        return super().command(name, cls=_Command, **kwargs)


app = _Typer(no_args_is_help=True, add_completion=False, help=__doc__)
keys_app = _Typer(no_args_is_help=True, help="API keys.")
projections_app = _Typer(no_args_is_help=True, help="Read-model projections.")
app.add_typer(keys_app, name="keys")
app.add_typer(projections_app, name="projections")
secrets_app = _Typer(no_args_is_help=True, help="Encryption of stored secrets (STANCE_SECRET_KEYS).")
app.add_typer(secrets_app, name="secrets")


@app.command("extract")
def extract(
    files: Annotated[list[Path], typer.Argument(help="Article files: .txt bodies or .json with `body`.")],
    format: Annotated[str, typer.Option("--format", help="jsonl, json or table.")] = "jsonl",
    pack: Annotated[Path | None, typer.Option("--pack", help="Domain pack file (default: bundled).")] = None,
    rules: Annotated[
        bool, typer.Option("--rules", help="The rules alone, without the learned decision.")
    ] = False,
) -> None:
    """Extract stances from article files, offline (no database or broker)."""
    from services.extraction.cli import extract as run_extract

    run_extract(files, format, pack, rules)


@app.command("train")
def train(
    eval_dir: Annotated[
        Path, typer.Option("--eval-dir", help="Folder with train/, dev/, real-unlabelled/ and score.py.")
    ] = Path("../shared/eval"),
    output: Annotated[
        Path | None, typer.Option("--output", help="Where to write the model (default: the bundled one).")
    ] = None,
    curve: Annotated[
        bool, typer.Option("--curve", help="Also print the learning curve (1/4, 1/2, all).")
    ] = False,
    cross_validate: Annotated[
        bool, typer.Option("--cv/--no-cv", help="Leave-one-writer-out cross-validation first.")
    ] = True,
) -> None:
    """Train the stance decision on annotated articles; print its figures; write the model."""
    from services.extraction.domain import load_domain_pack
    from services.extraction.learned import model_path
    from services.extraction.training import run as run_training

    if not (eval_dir / "train").is_dir() or not (eval_dir / "score.py").is_file():
        typer.echo(f"error: {eval_dir} has no train/ folder and score.py", err=True)
        raise typer.Exit(2)
    run_training(eval_dir, output or model_path(load_domain_pack()), cross_validate, curve, echo=typer.echo)


def database_url(settings: Settings) -> str:
    """The configured database, or the embedded one under STANCE_HOME (started if needed)."""
    if settings.database_url:
        return settings.database_url
    from services.runtime.embedded import start_postgres

    url = start_postgres(settings.home)
    os.environ["STANCE_DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


@app.command()
def run() -> None:
    """Start everything: embedded PostgreSQL and Redis unless URLs are set, then API, worker and beat."""
    from services.runtime import embedded, supervisor

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    db_url = database_url(settings)
    redis = None
    redis_url = settings.redis_url
    if not redis_url:
        redis = embedded.start_redis(settings.home)
        redis_url = redis.url
    try:
        _migrate(db_url)
        key = _first_admin_key(db_url, settings.home)
        base = f"http://{settings.host}:{settings.port}"
        typer.echo(f"Stance Tracker on {base}/  (API docs: {base}/docs)")
        if key:
            typer.echo(f"Admin API key (shown once, also saved to {settings.home / 'admin.key'}): {key}")
        typer.echo("Ctrl-C stops everything.")
        code = supervisor.supervise(settings, supervisor.child_env(settings, db_url, redis_url))
    finally:
        if redis is not None:
            redis.stop()
    raise typer.Exit(code)


@app.command()
def api() -> None:
    """Serve the HTTP API (Uvicorn)."""
    import uvicorn

    settings = get_settings()
    settings.require_database_url()
    uvicorn.run("services.api.app:app", host=settings.host, port=settings.port, log_level="warning")


@app.command()
def worker(concurrency: Annotated[int | None, typer.Option(help="Worker processes.")] = None) -> None:
    """Run a Celery worker (extraction, projection, webhook delivery)."""
    settings = get_settings()
    settings.require_database_url()
    if settings.worker_metrics_port:
        # Each worker sums its own pool's metric files: a fresh directory per worker start.
        metrics_dir = settings.home.resolve() / "metrics" / f"worker-{os.getpid()}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    argv = [
        sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker",
        "--loglevel", settings.log_level, "--concurrency", str(concurrency or settings.worker_concurrency),
        "--queues", settings.queue, "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    os.execv(sys.executable, argv)


@app.command()
def beat() -> None:
    """Run Celery beat: the projector safety net and the stuck-article sweep."""
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    schedule = settings.home.resolve() / "celerybeat-schedule"
    argv = [
        sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "beat",
        "--loglevel", settings.log_level, "--schedule", str(schedule),
    ]  # fmt: skip
    os.execv(sys.executable, argv)


@app.command()
def migrate() -> None:
    """Upgrade the database schema to the latest migration."""
    _migrate(database_url(get_settings()))
    typer.echo("database is at the latest migration", err=True)


@keys_app.command("create")
def keys_create(
    scopes: Annotated[str, typer.Option(help="Comma-separated: ingest, read, admin.")] = "ingest,read",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "cli",
) -> None:
    """Create an API key and print it (only the key, on stdout)."""
    from services.auth.schemas import SCOPES
    from services.auth.service import create_key
    from services.db import session_scope

    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        typer.echo(f"unknown scopes {unknown}; choose from {', '.join(SCOPES)}", err=True)
        raise typer.Exit(2)
    url = database_url(get_settings())
    with session_scope(url) as session:
        created = create_key(session, wanted, name)  # type: ignore[arg-type]
    typer.echo(created.key)


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Replay the event log into fresh read tables (no webhooks are sent)."""
    from services.db import session_scope
    from services.positions import projector

    settings = get_settings()
    with session_scope(database_url(settings)) as session:
        replayed = projector.rebuild(session, settings.projector_batch_size)
    typer.echo(f"replayed {replayed} events", err=True)


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored webhook secret with the first key of STANCE_SECRET_KEYS."""
    from services.db import session_scope
    from services.webhooks.repository import reencrypt_secrets

    with session_scope(database_url(get_settings())) as session:
        count = reencrypt_secrets(session)
    typer.echo(f"re-encrypted the secrets of {count} subscriptions", err=True)


def _migrate(url: str) -> None:
    from services.migrate import upgrade

    upgrade(url)


def _first_admin_key(url: str, home: Path) -> str | None:
    from sqlalchemy import func, select

    from services.auth.service import create_key
    from services.db import session_scope
    from services.models import ApiKey

    with session_scope(url) as session:
        if session.scalar(select(func.count()).select_from(ApiKey)):
            return None
        key = create_key(session, ["ingest", "read", "admin"], "admin (first start)").key
    path = home / "admin.key"
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


if __name__ == "__main__":
    app()
