"""A proxy in front of the fake AWS that misbehaves on request, for tests of how the console copes.

Point ``AWS_ENDPOINT_URL`` at :attr:`FaultProxy.url` (and build new boto3 sessions); every
request is forwarded to the moto server unless a rule says otherwise. Rules match on the AWS
operation (the ``Action`` form field of the query APIs IAM, STS and CloudFormation use, or the
``X-Amz-Target`` header of the JSON APIs) and, optionally, on the account the request is for.

The account comes from the access key in the ``Authorization`` header: the proxy watches the
``AssumeRole`` answers passing through it and remembers which account each key it saw handed
out belongs to (moto's own rule, see shared/notes/moto.md), or from ``x-moto-account-id``.

What a rule can do:

* ``throttle`` — answer HTTP 400 with the error code ``Throttling``, as AWS does when it is busy;
* ``fail`` — answer any error code, message and HTTP status;
* ``stall`` — hold the request without answering (AWS stopped answering) until the rule is
  removed or the proxy stops, then drop the connection. A stalled request is never forwarded:
  AWS never saw it;
* ``drop`` — close the connection without an answer;
* ``respond`` / ``swallow`` — answer 200 with a given body without forwarding (``swallow``: an
  empty success, e.g. an ``ExecuteChangeSet`` AWS accepted but never carried out);
* ``stack_status`` — rewrite ``DescribeStacks`` answers: another ``StackStatus`` and a
  ``StackStatusReason``;
* ``stack_events`` — answer ``DescribeStackEvents`` with made-up events (failure reasons).

Rules apply ``times`` times, or for ever when ``times`` is None; the newest matching rule wins.
Every request is recorded in :attr:`FaultProxy.log` with what happened to it.

Beside faults, :attr:`FaultProxy.delay_seconds` adds a latency to every request, as a far-away AWS
endpoint would, and :meth:`FaultProxy.take_counts` counts requests by operation (the AWS-call
benchmark, bench/aws_calls.py, uses both).
"""
from __future__ import annotations

import http.client
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length", "server", "date"}
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
ACCESS_KEY_ID = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
ROLE_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):")
STACK_STATUS = re.compile(rb"<StackStatus>[^<]*</StackStatus>")
STACK_STATUS_REASON = re.compile(rb"<StackStatusReason>[^<]*</StackStatusReason>|<StackStatusReason\s*/>")
CLOUDFORMATION_NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"

FORWARDED = "forwarded"


@dataclass
class Rule:
    """One misbehaviour. ``operation``/``account`` empty match everything."""

    action: str
    operation: str = ""
    account: str = ""
    times: int | None = None
    status: int = 400
    code: str = ""
    message: str = ""
    body: str = ""
    stack_status: str = ""
    reason: str = ""
    events: tuple = ()
    hits: int = 0
    released: threading.Event = field(default_factory=threading.Event, repr=False)

    def matches(self, operation: str, account: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (not self.operation or self.operation == operation) and (not self.account or self.account == account)


@dataclass(frozen=True)
class Request:
    """A request the proxy saw, and what it did with it (``forwarded`` or the rule's action)."""

    operation: str
    account: str
    outcome: str
    at: float


def operation_of(path: str, headers, body: bytes) -> str:
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    for source in (body.decode("utf-8", "replace") if body else "", urlsplit(path).query):
        action = parse_qs(source).get("Action")
        if action:
            return action[0]
    return ""


def _form(body: bytes) -> dict:
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


class FaultProxy:
    """A threaded HTTP proxy on loopback in front of ``upstream_url``; start it, add rules, stop it."""

    def __init__(self, upstream_url: str, *, host: str = "127.0.0.1", port: int = 0, upstream_timeout: float = 60.0):
        upstream = urlsplit(upstream_url)
        self.upstream_host = upstream.hostname or "127.0.0.1"
        self.upstream_port = upstream.port or 80
        self.upstream_timeout = upstream_timeout
        self._host, self._port = host, port
        self._rules: list[Rule] = []
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stalled = 0
        self.log: list[Request] = []
        self._counted = 0  # how much of the log take_counts() has counted
        self.delay_seconds = 0.0  # added before every request is handled
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- running -------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        server = _Server((self._host, self._port), _Handler)
        server.proxy = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.clear()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- rules ---------------------------------------------------------------------------

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)
        rule.released.set()

    def clear(self) -> None:
        with self._lock:
            rules, self._rules = self._rules, []
        for rule in rules:
            rule.released.set()

    def reset(self) -> None:
        """No rules, and an empty log (between tests)."""
        self.clear()
        with self._lock:
            self.log.clear()
            self._counted = 0

    def throttle(self, operation: str, *, times: int | None = 1, account: str = "") -> Rule:
        return self.add(Rule("error", operation, account, times, status=400, code="Throttling", message="Rate exceeded"))

    def fail(self, operation: str, *, code: str, message: str, status: int = 400, times: int | None = None,
             account: str = "") -> Rule:
        return self.add(Rule("error", operation, account, times, status=status, code=code, message=message))

    def stall(self, operation: str, *, times: int | None = None, account: str = "") -> Rule:
        return self.add(Rule("stall", operation, account, times))

    def drop(self, operation: str, *, times: int | None = None, account: str = "") -> Rule:
        return self.add(Rule("drop", operation, account, times))

    def respond(self, operation: str, body: str, *, status: int = 200, times: int | None = None, account: str = "") -> Rule:
        return self.add(Rule("respond", operation, account, times, status=status, body=body))

    def swallow(self, operation: str, *, times: int | None = None, account: str = "") -> Rule:
        """Answer success without forwarding: AWS said yes and then did nothing."""
        body = (f'<{operation}Response xmlns="{CLOUDFORMATION_NS}"><{operation}Result/>'
                f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{operation}Response>")
        return self.respond(operation, body, times=times, account=account)

    def stack_status(self, status: str, *, reason: str = "", account: str = "", times: int | None = None) -> Rule:
        return self.add(Rule("stack_status", "DescribeStacks", account, times, stack_status=status, reason=reason))

    def stack_events(self, events: Iterable[dict], *, account: str = "", times: int | None = None) -> Rule:
        """``events``: dicts with ``logical_id``, ``status``, ``reason`` and optionally ``type``; newest first."""
        return self.add(Rule("stack_events", "DescribeStackEvents", account, times, events=tuple(events)))

    # --- what happened -------------------------------------------------------------------

    def count(self, operation: str, *, account: str | None = None, outcome: str | None = FORWARDED) -> int:
        with self._lock:
            return sum(1 for r in self.log if r.operation == operation and (account is None or r.account == account)
                       and (outcome is None or r.outcome == outcome))

    def take_counts(self) -> Counter:
        """Requests by operation since the last call (whatever happened to them), and start counting afresh."""
        with self._lock:
            new, self._counted = self.log[self._counted:], len(self.log)
        return Counter(request.operation for request in new)

    @property
    def stalled_now(self) -> int:
        """How many requests are held by a stall rule at this moment."""
        with self._lock:
            return self._stalled

    def wait_for_stalled(self, count: int = 1, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.stalled_now < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"No request was stalled after {timeout:g} s; seen: {self.log[-10:]}")
            time.sleep(0.02)

    # --- used by the handler -------------------------------------------------------------

    def account_of(self, headers) -> str:
        explicit = headers.get("x-moto-account-id")
        if explicit:
            return explicit
        found = CREDENTIAL.search(headers.get("Authorization", ""))
        if not found:
            return ""
        with self._lock:
            return self._keys.get(found.group(1), "")

    def _match(self, operation: str, account: str) -> Rule | None:
        with self._lock:
            for rule in reversed(self._rules):
                if rule.matches(operation, account):
                    rule.hits += 1
                    return rule
        return None

    def _record(self, operation: str, account: str, outcome: str) -> None:
        with self._lock:
            self.log.append(Request(operation, account, outcome, time.monotonic()))

    def _learn_keys(self, request_body: bytes, response_body: bytes) -> None:
        account = ROLE_ACCOUNT.match(_form(request_body).get("RoleArn", ""))
        key = ACCESS_KEY_ID.search(response_body)
        if account and key:
            with self._lock:
                self._keys[key.group(1).decode()] = account.group(1)

    def _stall_begins(self) -> None:
        with self._lock:
            self._stalled += 1

    def _stall_ends(self) -> None:
        with self._lock:
            self._stalled -= 1


def error_body(code: str, message: str, *, json_protocol: bool) -> tuple[bytes, str]:
    if json_protocol:
        import json

        return json.dumps({"__type": code, "message": message}).encode(), "application/x-amz-json-1.1"
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return body.encode(), "text/xml"


def rewrite_stack_status(body: bytes, status: str, reason: str) -> bytes:
    without_reason = STACK_STATUS_REASON.sub(b"", body)
    replacement = f"<StackStatus>{escape(status)}</StackStatus>"
    if reason:
        replacement += f"<StackStatusReason>{escape(reason)}</StackStatusReason>"
    return STACK_STATUS.sub(replacement.encode(), without_reason)


def stack_events_body(stack_name: str, events: Iterable[dict]) -> bytes:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    members = "".join(
        "<member>"
        f"<StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/{escape(stack_name)}/fake</StackId>"
        f"<EventId>{uuid.uuid4()}</EventId><StackName>{escape(stack_name)}</StackName>"
        f"<LogicalResourceId>{escape(event['logical_id'])}</LogicalResourceId>"
        f"<ResourceType>{escape(event.get('type', 'AWS::CloudFormation::Stack'))}</ResourceType>"
        f"<Timestamp>{now}</Timestamp><ResourceStatus>{escape(event['status'])}</ResourceStatus>"
        f"<ResourceStatusReason>{escape(event.get('reason', ''))}</ResourceStatusReason>"
        "</member>"
        for event in events
    )
    return (f'<DescribeStackEventsResponse xmlns="{CLOUDFORMATION_NS}"><DescribeStackEventsResult><StackEvents>'
            f"{members}</StackEvents></DescribeStackEventsResult><ResponseMetadata><RequestId>{uuid.uuid4()}"
            "</RequestId></ResponseMetadata></DescribeStackEventsResponse>").encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy

    def handle_error(self, request, client_address):
        # A client that gave up (its read timeout) while we held or forwarded its request.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects
    # Headers and body leave in two writes: with Nagle's algorithm on, the client's delayed ACK would
    # hold the body back ~40 ms per request (which the benchmark's timings would show).
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _handle(self):
        proxy: FaultProxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        operation = operation_of(self.path, self.headers, body)
        if proxy.delay_seconds:
            time.sleep(proxy.delay_seconds)
        account = proxy.account_of(self.headers)
        rule = proxy._match(operation, account)
        action = rule.action if rule else FORWARDED
        proxy._record(operation, account, action)

        if action == "error":
            payload, content_type = error_body(rule.code, rule.message, json_protocol="X-Amz-Target" in self.headers)
            return self._answer(rule.status, payload, {"Content-Type": content_type})
        if action == "respond":
            return self._answer(rule.status, rule.body.encode(), {"Content-Type": "text/xml"})
        if action == "stack_events":
            stack_name = _form(body).get("StackName", "")
            return self._answer(200, stack_events_body(stack_name, rule.events), {"Content-Type": "text/xml"})
        if action == "stall":
            proxy._stall_begins()
            try:
                rule.released.wait()
            finally:
                proxy._stall_ends()
            self.close_connection = True
            return
        if action == "drop":
            self.close_connection = True
            return

        try:
            status, headers, payload = self._forward(body)
        except (OSError, http.client.HTTPException):
            self.close_connection = True  # the fake AWS itself did not answer: neither do we
            return
        if operation == "AssumeRole" and status == 200:
            proxy._learn_keys(body, payload)
        if action == "stack_status" and status == 200:
            payload = rewrite_stack_status(payload, rule.stack_status, rule.reason)
        self._answer(status, payload, headers)

    def _forward(self, body: bytes):
        proxy: FaultProxy = self.server.proxy
        connection = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout)
        try:
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
            headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = {key: value for key, value in response.getheaders() if key.lower() not in HOP_BY_HOP}
            return response.status, kept, payload
        finally:
            connection.close()

    def _answer(self, status: int, payload: bytes, headers: dict) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
