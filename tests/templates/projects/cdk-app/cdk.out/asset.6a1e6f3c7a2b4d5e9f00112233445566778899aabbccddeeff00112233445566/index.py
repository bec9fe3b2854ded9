import os


def handler(event, context):
    import greeting  # from the layer asset (python/greeting.py)

    return {"hello": event.get("name", "world"), "queue": os.environ["QUEUE_URL"], "greeting": greeting.TEXT}
