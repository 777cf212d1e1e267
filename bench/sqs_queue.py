"""Queue chores for bench/run on LocalStack: create NAME | delete URL | count URL."""
import os, sys

import boto3

c = boto3.client(
    "sqs",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
op, arg = sys.argv[1], sys.argv[2]
if op == "create":
    print(c.create_queue(QueueName=arg)["QueueUrl"])
elif op == "delete":
    c.delete_queue(QueueUrl=arg)
elif op == "count":
    a = c.get_queue_attributes(QueueUrl=arg, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))
