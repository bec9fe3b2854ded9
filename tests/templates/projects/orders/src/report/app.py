import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"proxy": (event.get("pathParameters") or {}).get("proxy"), "stage": event["requestContext"]["stage"]})}
