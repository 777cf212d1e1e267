#!/usr/bin/env python3
"""Create hookline's local AWS resources in LocalStack, as resources.json defines them.

    python3 localstack/bootstrap.py [--resources PATH] [--export]

- Endpoint: $AWS_ENDPOINT_URL, default http://127.0.0.1:4566.
- Idempotent: a missing queue is created; an existing one whose attributes
  differ from resources.json is updated (SetQueueAttributes); log groups are
  created if missing and their retention set every time.
- Queues are created dead-letter queue first, so that the source queue's
  RedrivePolicy can point at the DLQ's real ARN.
- stdout: only `NAME=value` lines, so a shell can `eval "$(... bootstrap.py)"`
  (with --export each line starts with `export `). Progress goes to stderr.

Runs with any Python 3.8+ that has boto3: the host venv (.venv-localstack) and
the LocalStack container's own venv (docker-compose.yml's ready hook).
"""

import argparse
import json
import os
import shlex
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
# resources.json keys that are ours, not SQS attributes.
QUEUE_META_KEYS = {"QueueName", "env", "consumer", "RedrivePolicy", "RedriveAllowPolicy"}
# The AWS recommendation resources.json is checked against: a queue's
# visibility timeout at least 6x the timeout of the function consuming it.
VISIBILITY_FACTOR = 6


def log(msg):
    print("bootstrap: " + msg, file=sys.stderr)


def fail(msg):
    log("error: " + msg)
    sys.exit(1)


def load_resources(path):
    with open(path, encoding="utf-8") as f:
        res = json.load(f)
    names = {q["QueueName"] for q in res["queues"]}
    for q in res["queues"]:
        rp = q.get("RedrivePolicy")
        if rp and rp["deadLetterQueue"] not in names:
            fail("%s: RedrivePolicy names unknown queue %r" % (q["QueueName"], rp["deadLetterQueue"]))
        consumer = q.get("consumer")
        if consumer:
            timeout = res["functions"][consumer]["timeout_seconds"]
            if q["VisibilityTimeout"] < VISIBILITY_FACTOR * timeout:
                fail(
                    "%s: VisibilityTimeout %d is less than %dx the %s timeout (%d s)"
                    % (q["QueueName"], q["VisibilityTimeout"], VISIBILITY_FACTOR, consumer, timeout)
                )
    return res


def creation_order(queues):
    """Dead-letter queues (queues without a RedrivePolicy) first; file order otherwise."""
    return sorted(queues, key=lambda q: "RedrivePolicy" in q)


def desired_attributes(q, arn_of):
    """SQS attributes (all strings, JSON policies as JSON text) for queue definition `q`.

    arn_of(name) returns the ARN of a queue by name (existing or about to be)."""
    attrs = {k: str(v) for k, v in q.items() if k not in QUEUE_META_KEYS}
    rp = q.get("RedrivePolicy")
    if rp:
        attrs["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": arn_of(rp["deadLetterQueue"]),
                "maxReceiveCount": rp["maxReceiveCount"],
            }
        )
    rap = q.get("RedriveAllowPolicy")
    if rap:
        policy = {"redrivePermission": rap["redrivePermission"]}
        if "sourceQueues" in rap:
            policy["sourceQueueArns"] = [arn_of(n) for n in rap["sourceQueues"]]
        attrs["RedriveAllowPolicy"] = json.dumps(policy)
    return attrs


def normalized(value):
    """Attribute value in a comparable form: JSON policies parsed, numbers as strings."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, dict):
        return {k: (sorted(map(str, v)) if isinstance(v, list) else str(v)) for k, v in parsed.items()}
    return str(parsed)


def ensure_queue(sqs, q, arn_of):
    name = q["QueueName"]
    want = desired_attributes(q, arn_of)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as e:
        if "NonExistentQueue" not in e.response["Error"]["Code"]:
            raise
        url = sqs.create_queue(QueueName=name, Attributes=want)["QueueUrl"]
        log("created queue %s" % name)
        return url
    have = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    drift = {k: v for k, v in want.items() if normalized(have.get(k, "")) != normalized(v)}
    if drift:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=drift)
        for k in sorted(drift):
            log("queue %s existed; set %s: %s -> %s" % (name, k, have.get(k, "(unset)"), drift[k]))
    else:
        log("queue %s exists, attributes as defined" % name)
    return url


def ensure_log_group(logs, g):
    name = g["LogGroupName"]
    try:
        logs.create_log_group(logGroupName=name)
        log("created log group %s" % name)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
        log("log group %s exists" % name)
    logs.put_retention_policy(logGroupName=name, retentionInDays=g["RetentionInDays"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resources", default=os.path.join(HERE, "resources.json"))
    ap.add_argument("--export", action="store_true", help="prefix each output line with 'export '")
    args = ap.parse_args()

    res = load_resources(args.resources)
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT
    region = res["region"]
    # LocalStack's fixed credentials ("test" maps to account 000000000000);
    # deliberately not the caller's, which may be real AWS ones.
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=region
    )
    cfg = Config(connect_timeout=3, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"})
    sqs = session.client("sqs", endpoint_url=endpoint, config=cfg)
    logs = session.client("logs", endpoint_url=endpoint, config=cfg)
    log("endpoint %s, region %s, from %s" % (endpoint, region, args.resources))

    arns, urls = {}, {}
    expected_prefix = "arn:aws:sqs:%s:%s:" % (region, res["account_id"])

    def arn_of(name):
        # A queue not created yet (the source queue named in the DLQ's
        # RedriveAllowPolicy) gets the ARN it will have; checked below.
        return arns.get(name, expected_prefix + name)

    for q in creation_order(res["queues"]):
        url = ensure_queue(sqs, q, arn_of)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if not arn.startswith(expected_prefix):
            fail("queue %s has ARN %s, expected account %s in %s" % (q["QueueName"], arn, res["account_id"], region))
        arns[q["QueueName"]], urls[q["QueueName"]] = arn, url

    for g in res["log_groups"]:
        ensure_log_group(logs, g)
    for g in res["log_groups"]:
        name = g["LogGroupName"]
        groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        retention = next((x.get("retentionInDays") for x in groups if x["logGroupName"] == name), None)
        if retention != g["RetentionInDays"]:
            fail("log group %s: retention is %r after setting it" % (name, retention))

    env = [("AWS_ENDPOINT_URL", endpoint), ("AWS_REGION", region)]
    # The source queue's line first, then its DLQ's.
    for q in sorted(res["queues"], key=lambda q: "RedrivePolicy" not in q):
        if q.get("env"):
            env.append((q["env"], urls[q["QueueName"]]))
    # The worker marks a transient failure FAILED on the last receive before the DLQ.
    for q in res["queues"]:
        if q.get("consumer") and q.get("RedrivePolicy"):
            env.append(("HOOKLINE_MAX_RECEIVE_COUNT", str(q["RedrivePolicy"]["maxReceiveCount"])))
    prefix = "export " if args.export else ""
    for k, v in env:
        print("%s%s=%s" % (prefix, k, shlex.quote(v)))


if __name__ == "__main__":
    try:
        main()
    except ClientError as e:
        fail("%s: %s" % (e.operation_name, e))
    except Exception as e:  # connection refused, bad JSON, ...: one line, not a traceback
        fail("%s: %s" % (type(e).__name__, e))
