"""Error answers that are not AWS's JSON (a proxy's HTML 500, an XML 403, a bare 403) become one line
with the HTTP status, from the AWS-shaped endpoint on 127.0.0.1 (moto answers only in AWS's shapes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from aws_shaped import Answer, AwsShapedServer

from lambdatui.backends import BackendError
from lambdatui.backends.aws import AwsBackend
from lambdatui.backends.aws_errors import AccessDeniedError, summarize_body
from lambdatui.config import parse_config

REPO = Path(__file__).resolve().parent.parent

HTML_500 = (
    "<!DOCTYPE html>\n<html>\n<head><title>500 Internal Server Error</title></head>\n<body>\n"
    "<center><h1>500 Internal Server Error</h1></center>\n<hr><center>nginx/1.25.3</center>\n</body>\n</html>\n"
)
XML_403 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>AccessDenied</Code>\n'
    "  <Message>Request blocked by the corporate proxy</Message>\n  <RequestId>4442587FB7D0A2F9</RequestId>\n</Error>\n"
)


@pytest.fixture
def shaped(aws_env):  # aws_env: credentials that reach only loopback
    server = AwsShapedServer()
    yield server
    server.stop()


def _backend(server: AwsShapedServer) -> AwsBackend:
    config = parse_config(f"backend: aws\naws: {{region: us-east-1, endpoint_url: '{server.endpoint}'}}\n")
    return AwsBackend(config, max_attempts=1)


def _answer(server: AwsShapedServer, answer: Answer) -> None:
    server.on("GET", "/2015-03-31/functions/", lambda request: answer)


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (Answer(500, HTML_500, content_type="text/html"), BackendError,
         "ListFunctions failed: HTTP 500: 500 Internal Server Error (an HTML page, not an AWS answer)"),
        (Answer(403, XML_403, content_type="application/xml"), AccessDeniedError,
         "Access denied to ListFunctions for profile 'default': HTTP 403 AccessDenied: Request blocked by the corporate proxy"),
        (Answer(403, "", content_type="text/plain"), AccessDeniedError,
         "Access denied to ListFunctions for profile 'default': HTTP 403 Forbidden with no error body"),
        (Answer(502, "Bad Gateway\nupstream connect error or disconnect/reset before headers", content_type="text/plain"), BackendError,
         "ListFunctions failed: HTTP 502: Bad Gateway"),
    ],
    ids=["html-500", "xml-403", "bare-403", "text-502"],
)
def test_non_json_error_bodies_are_one_line_with_the_status(shaped, answer, error, message):
    _answer(shaped, answer)
    with pytest.raises(error) as info:
        _backend(shaped).list_functions()
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_aws_json_errors_are_unchanged(shaped):
    shaped.on("GET", "/2015-03-31/functions/", lambda request: Answer(
        403, {"Message": "User: arn:aws:iam::1:user/x is not authorized to perform: lambda:ListFunctions"},
        headers={"x-amzn-ErrorType": "AccessDeniedException"},
    ))
    with pytest.raises(AccessDeniedError, match=r"^Access denied to ListFunctions for profile 'default': User: arn:aws:iam::1:user/x is not authorized"):
        _backend(shaped).list_functions()


def test_a_long_page_is_cut_to_one_short_line():
    line = summarize_body(500, "oops " * 500)
    assert len(line) <= 300 and line.endswith("…") and line.startswith("HTTP 500: oops oops")


def test_cli_prints_an_html_500_as_one_line(shaped, tmp_path):
    _answer(shaped, Answer(500, HTML_500, content_type="text/html"))
    env = dict(os.environ, LAMBDATUI_STATE_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "lambdatui", "list", "--backend", "aws", "--region", "us-east-1", "--endpoint-url", shaped.endpoint,
         "--config", str(REPO / "lambdatui" / "sample" / "lambdatui.yaml")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr == "lambdatui: ListFunctions failed: HTTP 500: 500 Internal Server Error (an HTML page, not an AWS answer)\n"
