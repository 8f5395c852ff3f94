"""AWS calls side by side (integrations/parallel.py), the master step's lanes of IAM writes, and polling with back-off.

No test here measures time: concurrency is shown with barriers and events, pauses with an injected sleep.
"""
import threading

import pytest

from integrations import aws, parallel
from plans.applying import _iam_operations
from plans.jobs import JobAbandoned

WAIT = 10  # seconds a barrier or event waits before the test fails instead of hanging


class Gauge:
    """Counts the tasks running at once and remembers the most."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


def test_reads_run_side_by_side_but_never_more_than_the_limit_and_give_every_result():
    gauge, limit = Gauge(), 3
    together = threading.Barrier(limit, timeout=WAIT)  # passes only once `limit` tasks run at the same time

    def task(number):
        def run():
            with gauge:
                if number < limit:
                    together.wait()
                return number * number
        return run

    results = parallel.run_all({number: task(number) for number in range(12)}, limit=limit)

    assert results == {number: number * number for number in range(12)}
    assert gauge.most == limit


def test_failed_reads_are_all_reported_after_every_read_ended():
    ended = []

    def fail(label):
        def run():
            ended.append(label)
            raise aws.AwsError(f"{label}: DescribeStacks failed: Throttling: Rate exceeded", code="Throttling")
        return run

    def succeed():
        ended.append("ok")
        return "fine"

    with pytest.raises(aws.AwsError) as raised:
        parallel.run_all({"prod": fail("prod"), "ok": succeed, "cdn": fail("cdn")}, limit=2)

    assert str(raised.value) == ("prod: DescribeStacks failed: Throttling: Rate exceeded; "
                                 "cdn: DescribeStacks failed: Throttling: Rate exceeded")
    assert raised.value.code == "Throttling"
    assert sorted(ended) == ["cdn", "ok", "prod"]
    outcomes = parallel.run_each({"ok": succeed, "prod": fail("prod")}, limit=2)
    assert outcomes["ok"].result == "fine" and outcomes["ok"].error is None
    assert isinstance(outcomes["prod"].error, aws.AwsError)


def test_a_bug_in_a_read_is_raised_as_it_is():
    def broken():
        raise KeyError("StackId")

    with pytest.raises(KeyError):
        parallel.run_all({"prod": broken, "cdn": lambda: 1}, limit=2)


def write(made, name, *, together=None, wait_for=None, then=None, fail=""):
    """A write that appends ``name`` to ``made``: first meeting the others at the barrier ``together``
    and waiting for ``wait_for``, after it setting ``then``; or failing with an AwsError saying ``fail``."""
    def make():
        if together is not None:
            together.wait()
        if wait_for is not None:
            assert wait_for.wait(WAIT), f"{name}: the other lane did not write meanwhile"
        if fail:
            raise aws.AwsError(fail, code="LimitExceeded")
        made.append(name)
        if then is not None:
            then.set()
    return parallel.Write(name, make)


def test_each_lanes_writes_stay_in_order_while_different_lanes_interleave():
    made, logged = [], []
    a2_made, b1_made = threading.Event(), threading.Event()
    lanes = {
        # b1, then a2, then b2: each lane waits for the other in the middle of its own writes.
        "A": [write(made, "a1"), write(made, "a2", wait_for=b1_made, then=a2_made), write(made, "a3")],
        "B": [write(made, "b1", then=b1_made), write(made, "b2", wait_for=a2_made), write(made, "b3")],
    }

    parallel.run_lanes(lanes, limit=2, on_written=lambda done: logged.append(done.description))

    assert [name for name in made if name.startswith("a")] == ["a1", "a2", "a3"]
    assert [name for name in made if name.startswith("b")] == ["b1", "b2", "b3"]
    assert made.index("b1") < made.index("a2") < made.index("b2")
    assert sorted(logged) == sorted(made)  # every write made is reported to the caller's thread


def test_never_more_lanes_write_at_once_than_the_limit():
    gauge, limit = Gauge(), 2
    together = threading.Barrier(limit, timeout=WAIT)

    def write(name, first):
        def make():
            with gauge:
                if first:
                    together.wait()
        return parallel.Write(name, make)

    lanes = {lane: [write(f"{lane}{index}", index == 0 and lane in ("g0", "g1")) for index in range(3)]
             for lane in (f"g{number}" for number in range(6))}
    written = []
    parallel.run_lanes(lanes, limit=limit, on_written=written.append)

    assert gauge.most == limit
    assert len(written) == 18


def test_a_failed_write_stops_its_lane_the_others_end_and_every_failure_is_reported():
    made, logged = [], []
    together = threading.Barrier(3, timeout=WAIT)  # a2, b1 and c1 under way at once
    lanes = {
        "A": [write(made, "a1"), write(made, "a2", together=together,
                                       fail="master: PutGroupPolicy failed: LimitExceeded: too big"), write(made, "a3")],
        "B": [write(made, "b1", together=together), write(made, "b2")],
        "C": [write(made, "c1", together=together, fail="master: CreateGroup failed: LimitExceeded: quota")],
    }
    threads_before = set(threading.enumerate())

    with pytest.raises(aws.AwsError) as raised:
        parallel.run_lanes(lanes, limit=3, on_written=lambda done: logged.append(done.description))

    assert "a3" not in made  # the failing lane stops
    assert "b1" in made and "b1" in logged  # the write under way ended and was reported
    assert "PutGroupPolicy failed" in str(raised.value) and "CreateGroup failed" in str(raised.value)
    assert set(threading.enumerate()) <= threads_before  # no thread left running


def test_no_lane_starts_a_write_after_a_failure():
    made = []
    lanes = {"A": [write(made, "a1"), write(made, "a2", fail="master: CreateGroup failed: LimitExceeded: quota")],
             "B": [write(made, "b1")]}  # one lane at a time: B would start after A failed

    with pytest.raises(aws.AwsError, match="CreateGroup failed"):
        parallel.run_lanes(lanes, limit=1, on_written=lambda done: None)
    assert made == ["a1"]


def test_when_the_job_stops_running_no_further_write_starts_and_the_reason_is_raised():
    made = []
    lanes = {"A": [write(made, "a1"), write(made, "a2"), write(made, "a3")]}

    def written(write):
        raise JobAbandoned("job #7 is no longer running")

    with pytest.raises(JobAbandoned):
        parallel.run_lanes(lanes, limit=2, on_written=written)
    assert made == ["a1"]


def test_each_groups_iam_writes_come_in_an_order_iam_accepts():
    master_plan = {
        "groups_create": [{"group": "G-new"}],
        "policies_put": [{"group": "G-new", "policy_name": "P", "document": {"Version": "2012-10-17", "Statement": []}},
                         {"group": "G-kept", "policy_name": "Q", "document": {"Version": "2012-10-17", "Statement": []}}],
        "policies_remove": [{"group": "G-kept", "policy_name": "Old"}],
        "members_add": [{"group": "G-new", "user": "ada"}, {"group": "G-kept", "user": "bob"}],
        "members_remove": [{"group": "G-kept", "user": "cy"}],
        "groups_remove": [{"group": "G-gone", "members": ["dee"], "policies": ["R"]}],
    }

    operations = _iam_operations(master_plan)

    assert {group: [operation for _, operation, _ in writes] for group, writes in operations.items()} == {
        "G-new": ["create_group", "put_group_policy", "add_user_to_group"],
        "G-kept": ["put_group_policy", "delete_group_policy", "add_user_to_group", "remove_user_from_group"],
        "G-gone": ["remove_user_from_group", "delete_group_policy", "delete_group"],
    }
    assert all(parameters["GroupName"] == group for group, writes in operations.items() for _, _, parameters in writes)


@pytest.mark.usefixtures("fake_aws")
def test_calls_from_many_threads_are_each_counted_once_and_credentials_fetched_once_per_account():
    aws.reset_session_cache()  # no credentials yet: each profile's AssumeRole is one of the step's calls
    prod, cdn = aws.AccountAccess(label="prod", profile="prod"), aws.AccountAccess(label="cdn", profile="cdn")
    step = aws.CallCounter()
    tasks = {number: (lambda access=(prod if number % 2 else cdn): aws.caller_account_id(access, step))
             for number in range(16)}

    reached = parallel.run_all(tasks, limit=8)

    assert set(reached.values()) == {"222222222222", "333333333333"}
    assert step.as_dict()["operations"] == {"AssumeRole": 2, "GetCallerIdentity": 16}
    assert len(step.clients) == 2  # one client per account and service, however many threads asked


def test_polls_pause_longer_each_time_up_to_a_cap():
    delays = aws.poll_delays(first=0.1, cap=1.0)
    assert [round(next(delays), 3) for _ in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


class FakeClock:
    def __init__(self):
        self.now, self.slept = 0.0, []

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.now += seconds

    def __call__(self):
        return self.now


def test_polling_stops_when_finished_and_never_sleeps_past_the_deadline():
    clock = FakeClock()
    answers = iter([(False, "CREATE_PENDING"), (False, "CREATE_IN_PROGRESS"), (True, "CREATE_COMPLETE")])

    assert aws.poll_until(lambda: next(answers), timeout=60, first_delay=0.1, max_delay=5,
                          sleep=clock.sleep, clock=clock) == (True, "CREATE_COMPLETE")
    assert clock.slept == [0.1, 0.2]

    clock = FakeClock()
    checks = []
    finished, value = aws.poll_until(lambda: (checks.append(clock.now), (False, "UPDATE_IN_PROGRESS"))[1], timeout=2,
                                     first_delay=0.25, max_delay=15, sleep=clock.sleep, clock=clock)
    assert (finished, value) == (False, "UPDATE_IN_PROGRESS")
    assert clock.slept == [0.25, 0.5, 1.0, 0.25]  # the last pause is cut to the deadline, then one last check
    assert checks[-1] == 2.0


class FakeCloudFormation:
    """Answers DescribeChangeSet with the statuses given, one per call."""

    def __init__(self, *statuses):
        self.statuses = list(statuses)

    def describe_change_set(self, **params):
        return {"Status": self.statuses.pop(0), "StatusReason": "The submitted information didn't contain changes."}


def test_a_change_set_is_polled_with_back_off_until_it_is_computed():
    slept = []

    described = aws._wait_change_set(FakeCloudFormation("CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"),
                                     "prod", "arn:cs", sleep=slept.append)

    assert described["Status"] == "CREATE_COMPLETE"
    assert slept == [aws.CHANGE_SET_FIRST_DELAY, aws.CHANGE_SET_FIRST_DELAY * 2]
    with pytest.raises(aws.AwsError, match="the change set failed") as raised:
        aws._wait_change_set(FakeCloudFormation("CREATE_PENDING", "FAILED"), "prod", "arn:cs", sleep=slept.append)
    assert raised.value.code == "ChangeSetFailed"
