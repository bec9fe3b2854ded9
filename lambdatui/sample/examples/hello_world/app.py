"""The seed's example: AWS's "Hello from Lambda!" function, with the greeting taken from GREETING."""

import json
import os


def lambda_handler(event, context):
    greeting = os.environ.get("GREETING", "Hello")
    print(f"{context.function_name} invoked, request {context.aws_request_id}")
    return {
        "statusCode": 200,
        "body": json.dumps(f"{greeting} from Lambda!"),
    }
