"""Start, watch and stop the real processes: a Celery worker, the Django development server.

Every process starts in its own process group, so stopping it also stops whatever it forked
(the worker's pool children, the autoreloader's server), and on Linux it is told to die with
the process that started it, so a killed test run or demo leaves nothing behind. The kernel
ties that to the starting *thread*: start processes from the main thread.
"""
from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The project's virtualenv when there is one (make setup), else wherever this Python lives.
VENV_BIN = PROJECT_ROOT / ".venv" / "bin" if (PROJECT_ROOT / ".venv" / "bin").is_dir() else Path(sys.executable).parent


class ProcessStartError(RuntimeError):
    """A process exited or did not become ready in time; the message ends with its log."""


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: the kernel sends SIGTERM when the parent goes
    # away, however it died (even SIGKILL, where no cleanup code of ours runs).
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen
    log_path: Path
    # False for a Celery worker: its main process stops the pool children itself, after their
    # running tasks; SIGTERM sent to a child directly would kill its task.
    terminate_whole_group: bool = True

    @property
    def pid(self) -> int:
        return self.popen.pid

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 25) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal_group(self, signum: int) -> None:
        """Signal the process and everything it forked (its own process group)."""
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM); see ``terminate_whole_group``."""
        if not self.is_running():
            return
        if self.terminate_whole_group:
            self.signal_group(signal.SIGTERM)
        else:
            self.popen.send_signal(signal.SIGTERM)

    def stop(self, *, grace_seconds: float = 10.0) -> None:
        """SIGTERM (a worker finishes its running task), then SIGKILL to the group after the grace time."""
        if self.is_running():
            self.terminate()
            try:
                self.popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self) -> None:
        """SIGKILL to the whole group at once; for idle processes whose work no longer matters."""
        # The group may outlive its leader (a pool child still exiting), so signal it regardless.
        self.signal_group(signal.SIGKILL)
        self.popen.wait()


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path = PROJECT_ROOT,
    terminate_whole_group: bool = True,
) -> ManagedProcess:
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    return ManagedProcess(name=name, popen=popen, log_path=log_path, terminate_whole_group=terminate_whole_group)


def wait_until_ready(process: ManagedProcess, is_ready: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> None:
    """Poll ``is_ready`` until it holds; stop the process and raise if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if not process.is_running():
            process.kill()  # whatever it forked goes too
            raise ProcessStartError(
                f"{process.name} exited with status {process.popen.returncode} before it was ready. "
                f"Its log ({process.log_path}):\n{process.log_tail()}"
            )
        if is_ready():
            return
        if time.monotonic() > deadline:
            process.kill()
            raise ProcessStartError(
                f"{process.name} was not ready after {timeout:.0f} s. Its log ({process.log_path}):\n{process.log_tail()}"
            )
        time.sleep(interval)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers bind: a port whose old connections linger in TIME_WAIT is free for them.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(preferred: int | None = None, *, host: str = "127.0.0.1", attempts: int = 50) -> int:
    """``preferred`` or the next free port above it; with no preference, one the OS picks."""
    if preferred is not None:
        for port in range(preferred, preferred + attempts):
            if port_is_free(port, host):
                return port
        raise ProcessStartError(f"No free port between {preferred} and {preferred + attempts - 1} on {host}.")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def http_answers(url: str, *, timeout: float = 1.0) -> bool:
    """True when something answers ``url`` with any HTTP status below 500."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (urllib.error.URLError, OSError):
        return False


# --- Celery worker -----------------------------------------------------------------------


@dataclass
class CeleryWorker:
    process: ManagedProcess
    node_name: str
    broker_url: str
    queues: tuple[str, ...]
    log_offset: int = 0

    def is_ready(self) -> bool:
        ready_line = re.compile(rb"\b" + re.escape(self.node_name.encode()) + rb"@\S+ ready\.")
        return ready_line.search(_read_from(self.process.log_path, self.log_offset)) is not None

    def wait_until_ready(self, *, timeout: float = 30.0) -> None:
        wait_until_ready(self.process, self.is_ready, timeout=timeout)

    def stop(self, *, grace_seconds: float = 10.0) -> None:
        self.process.stop(grace_seconds=grace_seconds)

    def kill(self) -> None:
        self.process.kill()


def start_celery_worker(
    *,
    env: Mapping[str, str],
    log_path: Path,
    node_name: str,
    pool: str = "prefork",
    concurrency: int = 2,
    queues: Sequence[str] = (),
    beat_schedule_file: Path | None = None,
    quick_start: bool = False,
    wait: bool = True,
    timeout: float = 30.0,
) -> CeleryWorker:
    """Start ``celery -A rolemodel_site worker``; with ``wait``, return once it logs that it is ready.

    ``node_name`` is the part before ``@%h``; keep it fixed per use (the file broker remembers
    every node name ever seen). ``quick_start`` skips mingle/gossip/heartbeat, which only matter
    when several workers cooperate, and saves about a second on Redis. ``beat_schedule_file``
    also runs beat inside the worker (one process for a demo; production runs beat apart).
    """
    argv = [
        str(VENV_BIN / "celery"), "-A", "rolemodel_site", "worker",
        "-P", pool, "-n", f"{node_name}@%h", "--loglevel", "INFO",
    ]  # fmt: skip
    if pool != "solo":
        argv += ["-c", str(concurrency)]
    if queues:
        argv += ["-Q", ",".join(queues)]
    if beat_schedule_file is not None:
        argv += ["-B", "--schedule", str(beat_schedule_file)]
    if quick_start:
        argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    log_path = Path(log_path)
    log_offset = log_path.stat().st_size if log_path.exists() else 0
    worker = CeleryWorker(
        process=start_process(
            f"Celery worker {node_name}", argv, env=env, log_path=log_path, terminate_whole_group=False
        ),
        node_name=node_name,
        broker_url=env.get("CELERY_BROKER_URL", ""),
        queues=tuple(queues),
        log_offset=log_offset,
    )
    if wait:
        worker.wait_until_ready(timeout=timeout)
    return worker


def _read_from(path: Path, offset: int) -> bytes:
    with open(path, "rb") as log:
        log.seek(offset)
        return log.read()


# --- Django development server (demo only) ------------------------------------------------


@dataclass
class WebServer:
    process: ManagedProcess
    url: str

    def wait_until_ready(self, *, timeout: float = 30.0) -> None:
        wait_until_ready(self.process, lambda: http_answers(self.url + "login/"), timeout=timeout, interval=0.1)

    def stop(self, *, grace_seconds: float = 5.0) -> None:
        self.process.stop(grace_seconds=grace_seconds)


def start_runserver(
    *, env: Mapping[str, str], log_path: Path, host: str = "127.0.0.1", port: int, wait: bool = True, timeout: float = 30.0
) -> WebServer:
    """``manage.py runserver`` (with its autoreloader); with ``wait``, return once /login/ answers."""
    argv = [str(VENV_BIN / "python"), str(PROJECT_ROOT / "manage.py"), "runserver", f"{host}:{port}"]
    server = WebServer(process=start_process("Web server", argv, env=env, log_path=log_path), url=f"http://{host}:{port}/")
    if wait:
        server.wait_until_ready(timeout=timeout)
    return server


def stop_all(processes: Sequence[ManagedProcess], *, grace_seconds: float = 10.0) -> None:
    """Stop several processes at once: SIGTERM to every group, then SIGKILL whatever is left.

    In parallel because a worker on the file broker takes a few seconds to notice SIGTERM.
    """
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        process.kill()
