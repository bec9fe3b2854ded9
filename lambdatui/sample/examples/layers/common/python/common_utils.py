"""A layer module: on Lambda it would live in /opt/python; here the config's `layers:` provides it."""

import json


def json_response(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
