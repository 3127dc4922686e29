"""The client installs and imports without the server: `import mnemo_client` loads none
of the server's modules or heavy dependencies, and a virtualenv holding only the client's
wheel and its dependencies (httpx, pydantic and theirs) talks to a real server."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import requires, version
from pathlib import Path

import pytest

import mnemo_client
from tests.e2e.server import start_server
from tests.install.wheels import ROOT, build_wheel, install, new_venv, only_dependencies_of, run

# Top-level modules a program that only talks to mnemo must never load.
SERVER_MODULES = {
    "mnemo",
    "numpy",
    "onnxruntime",
    "asyncpg",
    "sqlean",
    "redis",
    "fastapi",
    "starlette",
    "uvicorn",
    "typer",
    "prometheus_client",
    "uuid6",
    "threadpoolctl",
    "filelock",
}

USE = """
import sys
from mnemo_client import Client, MemoryCategory
with Client() as client:
    made = client.memories.create("User is vegetarian", category=MemoryCategory.system)
    assert [m.id for m in client.memories.iter_all()] == [made.id]
    print(made.content, client.memories.search("food").items[0].id == made.id)
print(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[1:])))
"""


def test_importing_the_client_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, mnemo_client\n"
        "from mnemo_client import AsyncClient, Client\n"
        "Client(base_url='http://h', api_key='omi_dev_x').close()\n"
        "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "mnemo_client" in loaded and "httpx" in loaded and "pydantic" in loaded
    assert loaded & SERVER_MODULES == set()


def test_the_versions_agree() -> None:
    with (ROOT / "client" / "pyproject.toml").open("rb") as file:
        declared = tomllib.load(file)["project"]["version"]
    assert mnemo_client.__version__ == declared == version("mnemo-client")
    # the server pins the client of its own checkout
    assert f"mnemo-client=={declared}" in (requires("mnemo") or [])


@pytest.mark.e2e
def test_a_virtualenv_with_only_the_client_talks_to_a_real_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("client")
    wheel = build_wheel(ROOT / "client", ("src", "pyproject.toml", "README.md", "LICENSE"), work)
    assert wheel.name == f"mnemo_client-{mnemo_client.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as packed:
        names = set(packed.namelist())
        licence = f"mnemo_client-{mnemo_client.__version__}.dist-info/licenses/LICENSE"
        assert packed.read(licence) == (ROOT / "LICENSE").read_bytes()  # the project's own
    assert {"mnemo_client/py.typed", "mnemo_client/models.py"} <= names
    assert not {n for n in names if n.startswith("mnemo/")}  # nothing of the server
    python = new_venv(work, only_dependencies_of("mnemo-client", work))
    install(python, wheel)
    for module in ("mnemo", "numpy", "fastapi"):  # nothing of the server is there at all
        absent = run(python, "-c", f"import {module}", cwd=work)
        assert absent.returncode == 1 and "ModuleNotFoundError" in absent.stderr, module

    server = start_server(f"sqlite:///{work}/m.db")
    try:
        assert server.first_key
        env = {"MNEMO_BASE_URL": server.base, "MNEMO_API_KEY": server.first_key}
        done = subprocess.run(
            [str(python), "-c", USE, *sorted(SERVER_MODULES)],
            capture_output=True,
            text=True,
            cwd=work,
            env={"PATH": "/usr/bin:/bin", **env},
            timeout=60,
            check=False,
        )
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["User is vegetarian True", "[]"]
    where = run(python, "-c", "import mnemo_client; print(mnemo_client.__file__)", cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(work / "venv"), where.stdout
