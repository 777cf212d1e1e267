"""LocalStack's own SendMessage rate from one boto3 client (bench/run's limit
for the ingest handler on SQS).

Usage: sqs_send.py QUEUE_URL BODY_FILE SECONDS THREADS
One boto3 client shared by THREADS threads (as many as wrk's connections),
each sending BODY_FILE's bytes with SendMessage, one after another, for
SECONDS. Prints `BENCH sends_per_s=… p50_us=… p99_us=…`. AWS_ENDPOINT_URL and
AWS_REGION come from the environment (scripts/localstack-up).
"""
import os, sys, threading, time

import boto3
from botocore.config import Config

url, body_file, secs, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
body = open(body_file, encoding="utf-8").read()
client = boto3.client(
    "sqs",
    endpoint_url=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
    region_name=os.environ.get("AWS_REGION", "us-east-1"),
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(max_pool_connections=threads, retries={"max_attempts": 0}),
)
client.send_message(QueueUrl=url, MessageBody=body)  # warm up the connection
lat, lock = [], threading.Lock()
end = time.perf_counter() + secs


def work():
    mine = []
    while time.perf_counter() < end:
        t = time.perf_counter()
        client.send_message(QueueUrl=url, MessageBody=body)
        mine.append(time.perf_counter() - t)
    with lock:
        lat.extend(mine)


start = time.perf_counter()
ts = [threading.Thread(target=work) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
elapsed = time.perf_counter() - start
lat.sort()
print(
    f"BENCH sends_per_s={len(lat) / elapsed:.0f} p50_us={lat[len(lat) // 2] * 1e6:.0f} "
    f"p99_us={lat[int(len(lat) * 0.99)] * 1e6:.0f}"
)
