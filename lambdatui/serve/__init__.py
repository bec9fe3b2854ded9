"""`lambdatui serve`: the executor headless, behind a Lambda-compatible API and the triggers
(HTTP routes, schedules, S3 folders, SQS queues) that invoke functions locally with AWS's event shapes.
"""
