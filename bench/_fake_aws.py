"""The fake AWS for the AWS-call benchmark: a moto server process behind a counting, delaying proxy.

* The server is ``moto_server`` started through this file, which first raises IAM's group quota
  in every fake account (moto's is fixed at AWS's default of 300; AWS raises it to 500 on
  request, and 50 accounts x 10 roles need exactly 500 groups).
* Every AWS request of the benchmark goes through :class:`DelayingProxy` on loopback: it counts
  requests by API action (STS AssumeRole included, which the engine's own counters do not see)
  and can add a fixed latency per request, as a far-away AWS endpoint would.

Run as a script, this file *is* the server: ``python bench/_fake_aws.py --groups-quota 500 -H 127.0.0.1 -p 0``.
"""
from __future__ import annotations

import http.client
import os
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"
# Headers that belong to one hop; the proxy sets its own Content-Length.
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
               "content-length", "server", "date"}


def _serve_moto(argv: list[str]) -> None:
    """Run moto's server with every account's IAM group quota set to ``--groups-quota``."""
    quota = 300
    if argv[:1] == ["--groups-quota"]:
        quota, argv = int(argv[1]), argv[2:]
    from moto.iam import models as iam_models
    from moto.server import main as moto_main

    original_init = iam_models.AccountSummary.__init__

    def init_with_quota(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self._groups_quota = quota

    iam_models.AccountSummary.__init__ = init_with_quota
    moto_main(argv)


class DelayingProxy:
    """A threaded HTTP forwarder on loopback that counts each request and may sleep before it."""

    def __init__(self, target_url: str, *, delay_seconds: float = 0.0):
        target = urlsplit(target_url)
        self.target_host, self.target_port = target.hostname, target.port
        self.delay_seconds = delay_seconds
        self._counts: Counter = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects
            # Headers and body leave in two writes: with Nagle's algorithm on, the client's delayed
            # ACK would hold the body back ~40 ms per request.
            disable_nagle_algorithm = True

            def do_request(self):
                proxy._forward(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_request

            def log_message(self, format, *args):  # noqa: A002  (the base class's name)
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def take_counts(self) -> Counter:
        """Requests by API action since the last call, and start counting afresh."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        action = ""
        target = handler.headers.get("X-Amz-Target", "")
        if target:
            action = target.rsplit(".", 1)[-1]
        elif body:
            action = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]
        with self._lock:
            self._counts[action or f"{handler.command} {urlsplit(handler.path).path}"] += 1

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
            handler.send_error(411, "The benchmark proxy needs a Content-Length")
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        self._record(handler, body)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        upstream = http.client.HTTPConnection(self.target_host, self.target_port, timeout=120)
        try:
            headers = {name: value for name, value in handler.headers.items() if name.lower() not in HOP_HEADERS}
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            response_headers = [(n, v) for n, v in response.getheaders() if n.lower() not in HOP_HEADERS]
            status, reason = response.status, response.reason
        except OSError as error:
            handler.send_error(502, f"The fake AWS did not answer: {error}")
            return
        finally:
            upstream.close()
        handler.send_response(status, reason)
        for name, value in response_headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)


@dataclass
class BenchAws:
    """The running server, the proxy in front of it, and the profiles that reach its accounts through the proxy."""

    server: object  # devtools.fake_aws.FakeAWS
    proxy: DelayingProxy
    profiles: object  # devtools.fake_aws.AwsProfiles

    @property
    def variables(self) -> dict[str, str]:
        from devtools.fake_aws import aws_variables

        return aws_variables(endpoint_url=self.proxy.url, profiles=self.profiles)

    def use_in_this_process(self) -> None:
        """Replace every AWS_* variable of this process (real keys included) with the fake AWS's."""
        for name in [name for name in os.environ if name.startswith("AWS_") or name == "MOTO_ACCOUNT_ID"]:
            del os.environ[name]
        os.environ.update(self.variables)

    def session(self, profile: str):
        from devtools.fake_aws import boto3_session

        return boto3_session(self.profiles, profile)

    def reset(self) -> None:
        """Wipe every fake account (the caller must also drop cached sessions)."""
        self.server.reset()

    def stop(self) -> None:
        try:
            self.proxy.close()
        finally:
            self.server.stop()


def start_bench_aws(directory: Path, *, accounts: dict[str, str], groups_quota: int) -> BenchAws:
    """Start the server (log in ``directory``), the proxy, and write profiles that point at the proxy."""
    from devtools.fake_aws import start_fake_aws, write_aws_profiles
    from devtools.processes import VENV_BIN

    directory = Path(directory)
    server = start_fake_aws(
        log_path=directory / "moto.log", host=LOOPBACK, timeout=60,
        server_command=[str(VENV_BIN / "python"), str(Path(__file__).resolve()), "--groups-quota", str(groups_quota)],
    )
    try:
        proxy = DelayingProxy(server.endpoint_url)
    except BaseException:
        server.stop()
        raise
    try:
        profiles = write_aws_profiles(directory / "aws", accounts=accounts, endpoint_url=proxy.url)
    except BaseException:
        proxy.close()
        server.stop()
        raise
    return BenchAws(server=server, proxy=proxy, profiles=profiles)


if __name__ == "__main__":
    _serve_moto(sys.argv[1:])
