"""A function that logs: print, the logging module at several levels, and stderr."""

import logging
import sys

logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("module loaded (this line is part of INIT)")


def lambda_handler(event, context):
    print(f"print() goes to the log, remaining {context.get_remaining_time_in_millis()} ms")
    logger.info("an INFO line with the request id: %s", context.aws_request_id)
    logger.warning("a WARNING line")
    logger.debug("a DEBUG line, hidden at level INFO")
    print("stderr goes to the log too", file=sys.stderr)
    return {"logged": True, "log_stream": context.log_stream_name}
