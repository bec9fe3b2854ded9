"""A function that fails in the ways Lambda reports, chosen by the event's "action".

- missing "action": KeyError (an unhandled exception, errorType "KeyError")
- "raise": a ValueError
- "exit": the process exits with status 3 (Runtime.ExitError)
- "timeout": sleeps past the timeout (Sandbox.Timedout)
- "oom": allocates past memory_size (Runtime.OutOfMemory)
- "set": returns a set, which JSON cannot hold (Runtime.MarshalError)
"""

import os
import time


def lambda_handler(event, context):
    action = event["action"]
    if action == "raise":
        raise ValueError("something went wrong")
    if action == "exit":
        os._exit(3)
    if action == "timeout":
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 5)
    if action == "oom":
        hog = []
        while True:
            hog.append(bytearray(16 * 1024 * 1024))
    if action == "set":
        return {1, 2, 3}
    return {"action": action, "ok": True}
