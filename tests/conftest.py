"""Shared fixtures: the MongoDB server of the MongoStore tests.

``MONGODB_URI`` from the environment wins (a real MongoDB, or the server
``.ci/run`` started). Otherwise the project's own script
``scripts/mongo_test_server.sh`` installs and starts its test server
(SecantusDB's MongoDB-wire server, in its own virtual environment), reused if
it is already running; a server started here is stopped by its PID at the end
of the session. If no server can be started the MongoDB tests fail under CI
(``CI`` set) and are skipped elsewhere.
"""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER_SCRIPT = ROOT / "scripts" / "mongo_test_server.sh"


def _script(*args, timeout=900):
    return subprocess.run(["bash", str(SERVER_SCRIPT), *args], capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def mongodb_uri():
    """URI of a MongoDB server for the tests (see the module docstring)."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    running = _script("uri", timeout=60)
    if running.returncode == 0:
        yield running.stdout.strip().splitlines()[-1]
        return
    started = _script("start")
    if started.returncode != 0:
        message = ("could not start the MongoDB test server with "
                   f"{SERVER_SCRIPT.name}: {started.stderr[-2000:]}")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        _script("stop", timeout=60)


@pytest.fixture(scope="session")
def mongo_database(mongodb_uri):
    """A database of its own for this test session, dropped at the end."""
    from pymongo import MongoClient

    name = f"skcrowd_test_{uuid.uuid4().hex[:10]}"
    yield name
    client = MongoClient(mongodb_uri, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture
def mongo_store(mongodb_uri, mongo_database):
    """Factory of MongoStores with fresh model names, dropped after the test."""
    from skcrowd.stores import MongoStore

    made = []

    def make(model=None, **kwargs):
        model = model or f"m{uuid.uuid4().hex[:12]}"
        store = MongoStore(mongodb_uri, database=mongo_database, model=model,
                           **kwargs)
        made.append(store)
        return store

    yield make
    for store in made:
        store.drop()
        store.close()
