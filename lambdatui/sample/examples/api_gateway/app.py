"""An API Gateway (REST, payload 1.0) proxy handler: routes on method and path, answers JSON."""

import json

from common_utils import json_response

ITEMS = {"1": {"id": "1", "name": "coffee"}, "2": {"id": "2", "name": "tea"}}


def lambda_handler(event, context):
    method = event.get("httpMethod", "GET")
    params = event.get("pathParameters") or {}
    if method == "GET" and "id" in params:
        item = ITEMS.get(params["id"])
        if item is None:
            return json_response(404, {"message": f"no item {params['id']}"})
        return json_response(200, item)
    if method == "GET":
        return json_response(200, {"items": list(ITEMS.values())})
    if method == "POST":
        body = json.loads(event.get("body") or "{}")
        new_id = str(len(ITEMS) + 1)
        ITEMS[new_id] = {"id": new_id, **body}
        return json_response(201, ITEMS[new_id])
    return json_response(405, {"message": f"method {method} not allowed"})
