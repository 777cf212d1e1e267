"""Queue chores for bench/run on LocalStack: create NAME | delete URL | count URL
| create-like-events NAME (a queue NAME and its DLQ NAME-dlq with the
attributes of localstack/resources.json's hookline-events and
hookline-events-dlq, as infra/template.yaml sets them; prints both URLs)."""
import json, os, sys

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
elif op == "create-like-events":
    spec = json.load(open(os.path.join(os.path.dirname(__file__), "..", "localstack", "resources.json")))
    by_name = {q["QueueName"]: q for q in spec["queues"]}
    attrs = lambda q: {k: str(v) for k, v in q.items() if k[0].isupper() and k not in ("QueueName", "RedrivePolicy", "RedriveAllowPolicy")}
    dlq = c.create_queue(QueueName=f"{arg}-dlq", Attributes=attrs(by_name["hookline-events-dlq"]))["QueueUrl"]
    dlq_arn = c.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    main = by_name["hookline-events"]
    a = attrs(main)
    a["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(main["RedrivePolicy"]["maxReceiveCount"])})
    print(c.create_queue(QueueName=arg, Attributes=a)["QueueUrl"], dlq)
elif op == "delete":
    c.delete_queue(QueueUrl=arg)
elif op == "count":
    a = c.get_queue_attributes(QueueUrl=arg, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))
