import json


def lambda_handler(event, context):
    """Sample pure Lambda function (as `sam init` writes it), telling back what it was given."""
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "message": "hello world",
                "path": event.get("path"),
                "method": event.get("httpMethod"),
                "stage": (event.get("requestContext") or {}).get("stage"),
                "function": context.function_name,
                "timeout_ms_left_at_most": context.get_remaining_time_in_millis() <= 3000,
            }
        ),
    }
