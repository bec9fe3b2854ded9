def handler(event, context):
    for record in event["Records"]:
        print("S3-OBJECT", record["s3"]["bucket"]["name"], record["s3"]["object"]["key"])
