#!/bin/sh
# LocalStack "ready" hook for the Docker variant: docker-compose.yml mounts this
# file into /etc/localstack/init/ready.d/ and bootstrap.py + resources.json into
# /opt/hookline/. LocalStack runs it once its services answer; it creates the
# resources of resources.json (the same script the no-Docker path runs).
# LocalStack runs .sh hooks directly, so this file must stay executable.
set -eu
# The image's own venv has boto3; fall back to whatever python3 is on PATH.
py=/opt/code/localstack/.venv/bin/python
[ -x "$py" ] || py=python3
AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}" exec "$py" /opt/hookline/bootstrap.py
