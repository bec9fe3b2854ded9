"""`lambdatui serve` on SAM projects: the template's Api and HttpApi events answered over loopback
by a real HTTP client, with path parameters and each API's stage in requestContext."""

from __future__ import annotations

import os
import re

import httpx
from serve_process import ServeProcess  # tests/ is on sys.path (its conftest.py)


class Serve(ServeProcess):
    def __init__(self, cwd, state) -> None:
        env = dict(os.environ, LAMBDATUI_STATE_DIR=str(state))
        env.pop("LAMBDATUI_CONFIG", None)
        super().__init__(["--port", "0", "--http-port", "0"], env, cwd=cwd)
        self.http_port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", self.wait_for("HTTP ")).group(1))
        self.wait_for("Ready.")


def test_serve_answers_the_hello_world_api_path_with_the_prod_stage(project, tmp_path):
    serve = Serve(project("python-hello"), tmp_path / "state")
    try:
        response = httpx.get(f"http://127.0.0.1:{serve.http_port}/hello", timeout=30)
        assert response.status_code == 200
        assert response.json() == {"message": "hello world", "path": "/hello", "method": "GET", "stage": "Prod", "function": "HelloWorldFunction", "timeout_ms_left_at_most": True}
        assert httpx.post(f"http://127.0.0.1:{serve.http_port}/hello", timeout=30).status_code in (403, 404)  # only GET is routed
    finally:
        serve.stop()


def test_serve_http_api_path_parameters_and_an_explicit_apis_stage(project, tmp_path):
    serve = Serve(project("orders"), tmp_path / "state")
    try:
        created = httpx.post(f"http://127.0.0.1:{serve.http_port}/orders/42", content=b"{}", timeout=30)
        assert created.status_code == 201
        body = created.json()
        assert (body["id"], body["stage"], body["shared"]) == ("42", "$default", "hello from the layer")
        report = httpx.get(f"http://127.0.0.1:{serve.http_port}/reports/2024/q1", timeout=30)
        assert report.status_code == 200 and report.json() == {"proxy": "2024/q1", "stage": "v1"}
    finally:
        serve.stop()
