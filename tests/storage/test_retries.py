"""Which failures an image is retried for (after botocore's own per-request retries), and how."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from chatmigrate.storage.copy import ATTEMPTS, ImageJob, ImageResult, copy_with_retries, transient


def client_error(status: int, code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutObject")


@pytest.mark.parametrize(("exc", "retried"), [
    (client_error(503, "SlowDown"), True),
    (client_error(500, "InternalError"), True),
    (client_error(400, "RequestTimeout"), True),
    (client_error(400, "BadDigest"), True),
    (ReadTimeoutError(endpoint_url="http://x"), True),
    (EndpointConnectionError(endpoint_url="http://x"), True),
    (TimeoutError(), True),
    (client_error(403, "AccessDenied"), False),
    (client_error(400, "InvalidArgument"), False),
    (FileNotFoundError(), False),
    (ValueError("a bug"), False),
])
def test_throttling_5xx_and_timeouts_are_retried_nothing_else(exc, retried):
    assert transient(exc) is retried


JOB = ImageJob("m1", "https://bkt.s3.amazonaws.com/k.jpg", "c/m1/k.jpg")
OK = ImageResult("m1", JOB.source_url, JOB.key, "copied", None, 3, "abc")


def test_a_transient_failure_is_retried_with_growing_pauses_until_it_succeeds():
    calls, pauses = [], []

    def flaky(job):
        calls.append(job)
        if len(calls) < 3:
            raise client_error(503, "SlowDown")
        return OK

    assert copy_with_retries(JOB, flaky, str, pauses.append) == OK
    assert len(calls) == 3 and pauses == sorted(pauses) and pauses[0] < pauses[1]


def test_a_lasting_failure_is_the_images_failed_outcome_with_the_reason_scrubbed():
    def down(job):
        raise client_error(503, "SlowDown secret-value")

    res = copy_with_retries(JOB, down, lambda s: s.replace("secret-value", "***"), lambda _: None)
    assert res.outcome == "failed" and f"after {ATTEMPTS} attempts" in res.reason
    assert "secret-value" not in res.reason and "***" in res.reason


def test_a_permanent_failure_is_not_retried():
    calls = []

    def denied(job):
        calls.append(job)
        raise client_error(403, "AccessDenied")

    res = copy_with_retries(JOB, denied, str, lambda _: None)
    assert res.outcome == "failed" and len(calls) == 1 and "AccessDenied" in res.reason
