"""The wheel as the image installs it (`pip install .`, not editable) migrates an empty database."""

import os
import shutil
import subprocess
import sys
import sysconfig
import uuid
import venv
from pathlib import Path

import psycopg

from tests.conftest import ROOT, _libpq, _state, _with_database


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_installed_wheel_migrates_an_empty_database_and_alembic_check_passes(tmp_path: Path) -> None:
    # Built from a copy of the sources: an in-tree build leaves a build/ that later wheels reuse.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", ".*cache", ".stance"),
    )
    wheels = tmp_path / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "-w",
        str(wheels),
        str(source),
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("stance_tracker-*.whl")

    # A scratch venv holding the project non-editable; its dependencies are borrowed from this
    # test's environment through a .pth (paths only: that environment's editable hook is not run).
    scratch = tmp_path / "venv"
    venv.create(scratch, with_pip=False)
    python = scratch / "bin" / "python"
    purelib = Path(
        run(
            str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    (purelib / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        sys.executable, "-m", "pip", "--python", str(python), "install",
        "--quiet", "--no-deps", "--no-index", str(wheel), cwd=tmp_path,
    )  # fmt: skip

    name = f"stance_wheel_{uuid.uuid4().hex[:8]}"
    url = _with_database(_state["admin_url"], name)
    with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["STANCE_DATABASE_URL"] = url
    elsewhere = tmp_path / "elsewhere"  # not the checkout: nothing may be found beside the sources
    elsewhere.mkdir()
    try:
        migrated = run(str(scratch / "bin" / "stance"), "migrate", cwd=elsewhere, env=env)
        assert migrated.stderr == "database is at the latest migration\n"
        where = run(
            str(python),
            "-c",
            "import services.migrate as m; print(m.__file__, m.script_location())",
            cwd=elsewhere,
            env=env,
        )
        module, location = where.stdout.split()
        assert module.startswith(str(purelib)) and location.startswith(str(purelib)), where.stdout
        assert Path(location, "versions").is_dir() and Path(location, "script.py.mako").is_file()
        page = (
            "from services.api import web; "
            "print(len(web._read('static/app.js')), len(web._read('index.html')))"
        )
        assert all(int(n) > 0 for n in run(str(python), "-c", page, cwd=elsewhere, env=env).stdout.split())

        run(str(python), "-c", f"from services.migrate import check; check({url!r})", cwd=elsewhere, env=env)
        with psycopg.connect(_libpq(url)) as connection:
            tables = {
                r[0]
                for r in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
        assert {"alembic_version", "events", "articles", "current_positions", "api_keys"} <= tables
    finally:
        with psycopg.connect(_libpq(_state["admin_url"]), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
