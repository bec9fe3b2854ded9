import json
import os

import shared  # from SharedLayer (layers/shared/python/shared.py)


def handler(event, context):
    keys = ("STAGE", "LOG_LEVEL", "TABLE_NAME", "REGION_NAME", "TABLE_ARN", "SHARED_VPC", "ORIGINS", "SECOND_ORIGIN", "GREETING", "PROD_ONLY", "DEBUG")
    return {
        "statusCode": 201,
        "body": json.dumps(
            {
                "id": (event.get("pathParameters") or {}).get("id"),
                "stage": event.get("requestContext", {}).get("stage"),
                "env": {k: os.environ.get(k) for k in keys},
                "shared": shared.GREETING,
                "memory": context.memory_limit_in_mb,
            }
        ),
    }
