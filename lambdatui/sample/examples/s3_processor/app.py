"""An S3 upload processor: reads each record of an S3 event and reports what it would process."""

import logging
import urllib.parse

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    processed = []
    for record in event.get("Records", []):
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        size = record["s3"]["object"].get("size", 0)
        logger.info("processing s3://%s/%s (%d bytes)", bucket, key, size)
        processed.append({"bucket": bucket, "key": key, "size": size})
    return {"processed": len(processed), "objects": processed}
