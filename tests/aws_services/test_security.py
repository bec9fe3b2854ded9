"""Who the embedded services answer: their own Host only, no browser Origin, and only requests
signed (SigV4, or an S3 presigned URL) with this state folder's key, generated at random, 0600."""

from __future__ import annotations

import json
import os
import stat

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdatui.aws_services import STATE_FILE, EmbeddedServices


@pytest.fixture
def services(tmp_path):
    s = EmbeddedServices.ensure(tmp_path / "state", "us-east-1")
    s.preload(wait=True)
    yield s
    s.close()


def _signed_list_tables_headers(services, host: str) -> tuple[str, dict[str, str], bytes]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    e = services.endpoint
    body = b"{}"
    url = f"http://{host}/"
    request = AWSRequest("POST", url, data=body, headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    SigV4Auth(Credentials(e.access_key_id, e.secret_access_key), "dynamodb", "us-east-1").add_auth(request)
    return url, {**dict(request.headers.items()), "Host": host}, body


def test_a_boto3_client_with_the_state_folders_credentials_works(services):
    ddb = services.endpoint.client("dynamodb")
    ddb.create_table(TableName="t1", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    assert ddb.list_tables()["TableNames"] == ["t1"]
    s3 = services.endpoint.client("s3")
    s3.create_bucket(Bucket="bucket-one")
    key = "dir/a b+c ü~%.txt"  # S3 signs its path as sent, not normalised: special characters must verify
    s3.put_object(Bucket="bucket-one", Key=key, Body=b"x" * 10, Metadata={"my_meta": "1"})
    assert s3.get_object(Bucket="bucket-one", Key=key)["Body"].read() == b"x" * 10
    assert s3.list_objects_v2(Bucket="bucket-one", Prefix="dir/a b")["KeyCount"] == 1


def test_an_s3_presigned_url_with_signature_version_4_works_and_an_expired_one_does_not(services):
    s3 = services.endpoint.client("s3")
    s3.create_bucket(Bucket="bucket-two")
    s3.put_object(Bucket="bucket-two", Key="k.txt", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket-two", "Key": "k.txt"}, ExpiresIn=60)
    assert httpx.get(url).content == b"presigned"
    import time
    from unittest import mock

    later = time.time() + 3600
    with mock.patch("time.time", return_value=later):  # the services' clock, an hour after a 60 s URL was signed
        answer = httpx.get(url)
    assert answer.status_code == 403 and b"expired" in answer.content


def test_a_wrong_host_is_refused_even_when_signed_for_it(services):
    # DNS rebinding: a page on rebind.example resolving to 127.0.0.1 sends its own name as Host.
    port = services.endpoint.url.rsplit(":", 1)[1]
    url, headers, body = _signed_list_tables_headers(services, f"rebind.example:{port}")
    answer = httpx.post(services.endpoint.url + "/", content=body, headers=headers)
    assert answer.status_code == 403
    assert "Host" in answer.json()["message"]


def test_a_request_with_an_origin_is_refused_even_a_null_one(services):
    url, headers, body = _signed_list_tables_headers(services, services.endpoint.url.removeprefix("http://"))
    assert httpx.post(services.endpoint.url + "/", content=body, headers=headers).status_code == 200  # the control
    for origin in ("https://evil.example", "null"):
        answer = httpx.post(services.endpoint.url + "/", content=body, headers={**headers, "Origin": origin})
        assert answer.status_code == 403, origin


def test_an_unsigned_request_is_refused(services):
    answer = httpx.post(services.endpoint.url + "/", content=b"{}", headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert answer.status_code == 403
    assert answer.json()["__type"] == "MissingAuthenticationToken"
    assert httpx.get(services.endpoint.url + "/moto-api/reset").status_code == 403  # moto's own routes too


def test_a_wrong_key_or_a_wrong_secret_is_refused(services):
    e = services.endpoint
    config = Config(retries={"total_max_attempts": 1})
    for key, secret, code in (("test", "test", "InvalidClientTokenId"), (e.access_key_id, "not-the-secret", "SignatureDoesNotMatch")):
        client = boto3.client("dynamodb", endpoint_url=e.url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret, config=config)
        with pytest.raises(ClientError) as caught:
            client.list_tables()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert caught.value.response["Error"]["Code"] == code


def test_a_tampered_body_does_not_verify(services):
    url, headers, body = _signed_list_tables_headers(services, services.endpoint.url.removeprefix("http://"))
    answer = httpx.post(services.endpoint.url + "/", content=b'{"Limit": 1}', headers=headers)
    assert answer.status_code == 403 and answer.json()["__type"] == "SignatureDoesNotMatch"


def test_credentials_are_random_per_state_folder_and_kept_private(tmp_path):
    a = EmbeddedServices.ensure(tmp_path / "a", "us-east-1")
    b = EmbeddedServices.ensure(tmp_path / "b", "us-east-1")
    try:
        assert a.endpoint.access_key_id != b.endpoint.access_key_id
        assert a.endpoint.secret_access_key != b.endpoint.secret_access_key
        assert "test" not in (a.endpoint.access_key_id, a.endpoint.secret_access_key)
        path = tmp_path / "a" / STATE_FILE
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        saved = json.loads(path.read_text())
        assert saved["credentials"]["access_key_id"] == a.endpoint.access_key_id
        assert saved["server"] == {"url": a.endpoint.url, "pid": os.getpid()}
    finally:
        a.close()
        b.close()
    assert "server" not in json.loads(path.read_text())  # forgotten when stopped; the credentials stay
    again = EmbeddedServices.ensure(tmp_path / "a", "us-east-1")
    try:
        assert again.endpoint.access_key_id == saved["credentials"]["access_key_id"]
    finally:
        again.close()
