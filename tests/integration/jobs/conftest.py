"""A real installation per test: a SQLite catalog built by the migrations, a local blob store, a broker,
and `cellportal worker` processes started (and killed) like an operator would."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cellportal.catalog import service as catalog
from cellportal.catalog.db import transaction
from cellportal.catalog.migrate import upgrade
from cellportal.config import Settings
from cellportal.jobs import repository
from cellportal.jobs._process import die_with_parent
from cellportal.jobs.submit import presence_window
from cellportal.jobs.supervisor import settings_env
from cellportal.runtime import Runtime
from tests.conftest import port_open, require

CELLPORTAL = str(Path(sys.executable).parent / "cellportal")

# Short enough that a killed worker is noticed in seconds; long enough that a heartbeat delayed on a busy
# 2-core machine is not taken for a death.
FAST_JOBS = {"job_heartbeat_seconds": 0.5, "job_stale_seconds": 8.0, "job_max_attempts": 3}


def broker_url(kind: str, data_dir: Path) -> str:
    if kind == "sqlite":
        return f"sqla+sqlite:///{data_dir / 'broker.sqlite'}"
    if kind == "redis":
        require(port_open("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
        return "redis://127.0.0.1:6379/7"
    require(port_open("127.0.0.1", 5672), "RabbitMQ on 127.0.0.1:5672")
    return "amqp://guest:guest@127.0.0.1:5672//"


def make_settings(data_dir: Path, broker: str = "sqlite", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "broker_url": broker_url(broker, data_dir),
        # A queue of its own: parallel test runs sharing a Redis or RabbitMQ never take each other's jobs.
        "queue_name": f"cellportal-test-{uuid.uuid4().hex[:8]}",
        **FAST_JOBS,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def catalog_url(tmp_path: Path) -> str:
    """SQLite by default; a test module overrides this with ``db_url`` to run on PostgreSQL too."""
    return f"sqlite:///{tmp_path / 'data' / 'catalog.sqlite'}"


@pytest.fixture
def broker() -> str:
    """sqlite by default; tests parametrize it directly (``redis``, ``rabbitmq``)."""
    return "sqlite"


@pytest.fixture
def settings(tmp_path: Path, catalog_url: str, broker: str) -> Settings:
    return make_settings(tmp_path / "data", broker, database_url=catalog_url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    upgrade(runtime.engine)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def dataset_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, schema-valid dataset from the demo generator; big enough that processing takes seconds."""
    from cellportal.demo.generator import generate_dataset

    return generate_dataset(
        tmp_path_factory.mktemp("datasets") / "blood.h5ad", n_cells=3000, n_genes=1500, preset="human_blood", seed=3
    )


@pytest.fixture
def collection_version_id(runtime: Runtime) -> str:
    with transaction(runtime.sessions) as session:
        version = catalog.create_collection(
            session,
            owner_id="tests",
            name="Jobs test collection",
            description="made by the jobs tests",
            contact_name="Test Curator",
            contact_email="curator@example.org",
        )
        return version.id


class WorkerProcess:
    """`cellportal worker` in a session of its own, so the whole tree can be killed like a crashed machine."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [CELLPORTAL, "worker", "--verbose"],
            env=settings_env(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,  # if pytest itself is killed, no worker outlives it
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def node(self) -> str:
        """The supervisor names its node after its own pid (see WorkerSupervisor)."""
        return f"cellportal-{self.process.pid}@{socket.gethostname()}"

    def kill_everything(self) -> None:
        """kill -9 the worker, its Celery process, the pool child and any converter: nothing gets to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever is left of the tree
        self.process.wait()
        self._log.close()

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(worker_settings: Settings | None = None) -> WorkerProcess:
        worker = WorkerProcess(worker_settings or settings, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def live_nodes(runtime: Runtime) -> list[str]:
    with transaction(runtime.sessions) as session:
        return repository.live_workers(session, stale_seconds=presence_window(runtime))


def wait_until(predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.2) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
