"""The lesson's chain, run against the embedded AWS services (`lambdatui serve --aws-services`):
an upload to a bucket → a function writes an item → the table's stream function logs it.

boto3 finds the services through the environment lambdatui gives each function when they are on
(AWS_ENDPOINT_URL, dummy credentials, AWS_REGION): the same code runs unchanged in AWS.
"""

import json
import logging
import os
import time
import urllib.parse

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

BUCKET = os.environ.get("BUCKET", "demo-uploads")
TABLE = os.environ.get("TABLE", "demo-orders")


def upload(event, context):
    """`lambdatui invoke demo-upload`: puts an object into the bucket (the chain's first step)."""
    key = event.get("key") or f"orders/{int(time.time() * 1000)}.json"
    body = json.dumps(event.get("order") or {"item": "coffee", "quantity": 2})
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    logger.info("uploaded s3://%s/%s", BUCKET, key)
    return {"bucket": BUCKET, "key": key}


def write_item(event, context):
    """The bucket's notification: each new object becomes an item of the table."""
    table = boto3.client("dynamodb")
    for record in event["Records"]:
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        table.put_item(TableName=TABLE, Item={
            "pk": {"S": key},
            "size": {"N": str(record["s3"]["object"].get("size", 0))},
            "uploaded": {"S": record["eventTime"]},
        })
        logger.info("wrote item %s to %s", key, TABLE)
    return {"written": len(event["Records"])}


def log_change(event, context):
    """The table's stream: logs each change, as the stream's Lambda would."""
    for record in event["Records"]:
        keys = record["dynamodb"]["Keys"]
        new = record["dynamodb"].get("NewImage")
        logger.info("%s %s: %s", record["eventName"], keys["pk"]["S"], json.dumps(new))
    return {"batchItemFailures": []}
