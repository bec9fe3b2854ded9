import json


def handler(event, context):
    print("SCHEDULED", json.dumps(event))
