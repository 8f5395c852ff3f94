"""The fake AWS for the AWS-call benchmark: a moto server process behind the fault proxy, which counts and delays.

* The server is ``moto_server`` started through this file, which first raises IAM's group quota
  in every fake account (moto's is fixed at AWS's default of 300; AWS raises it to 500 on
  request, and 50 accounts x 10 roles need exactly 500 groups).
* Every AWS request of the benchmark goes through devtools/fault_proxy.py's :class:`FaultProxy`
  (with no rules) on loopback: it counts requests by API action (``take_counts``, STS AssumeRole
  included) and can add a fixed latency per request (``delay_seconds``), as a far-away AWS endpoint would.

Run as a script, this file *is* the server: ``python bench/_fake_aws.py --groups-quota 500 -H 127.0.0.1 -p 0``.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


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


@dataclass
class BenchAws:
    """The running server, the proxy in front of it, and the profiles that reach its accounts through the proxy."""

    server: object  # devtools.fake_aws.FakeAWS
    proxy: object  # devtools.fault_proxy.FaultProxy
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
            self.proxy.stop()
        finally:
            self.server.stop()


def start_bench_aws(directory: Path, *, accounts: dict[str, str], groups_quota: int) -> BenchAws:
    """Start the server (log in ``directory``), the proxy, and write profiles that point at the proxy."""
    from devtools.fake_aws import start_fake_aws, write_aws_profiles
    from devtools.fault_proxy import FaultProxy
    from devtools.processes import VENV_BIN

    directory = Path(directory)
    server = start_fake_aws(
        log_path=directory / "moto.log", host=LOOPBACK, timeout=60,
        server_command=[str(VENV_BIN / "python"), str(Path(__file__).resolve()), "--groups-quota", str(groups_quota)],
    )
    try:
        proxy = FaultProxy(server.endpoint_url, host=LOOPBACK, upstream_timeout=120).start()
    except BaseException:
        server.stop()
        raise
    try:
        profiles = write_aws_profiles(directory / "aws", accounts=accounts, endpoint_url=proxy.url)
    except BaseException:
        proxy.stop()
        server.stop()
        raise
    return BenchAws(server=server, proxy=proxy, profiles=profiles)


if __name__ == "__main__":
    _serve_moto(sys.argv[1:])
