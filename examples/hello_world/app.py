"""The seed's example: greets whoever the event names."""

import json
import os


def lambda_handler(event, context):
    name = event.get("name", "World") if isinstance(event, dict) else "World"
    greeting = os.environ.get("GREETING", "Hello")
    print(f"{greeting} from {context.function_name}, request {context.aws_request_id}")
    return {"statusCode": 200, "body": json.dumps({"message": f"{greeting}, {name}!"})}
