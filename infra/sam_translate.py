#!/usr/bin/env python3
"""Translate infra/template.yaml with the AWS SAM translator, offline, to the CloudFormation that a deploy sends.

    python3 infra/sam_translate.py [--template PATH] [--out PATH]

CloudFormation expands `Transform: AWS::Serverless-2016-10-31` on the server,
so a template can pass cfn-lint's SAM schema checks and still translate into
something wrong (a missing permission, an invalid event source). This runs the
same translator (PyPI aws-sam-translator) locally and writes the result, which
scripts/check-infra then lints as plain CloudFormation, and asserts what the
translation must contain:

- the function URL and, for AuthType NONE, both public permissions;
- the worker's SQS event source mapping with ReportBatchItemFailures and a
  ScalingConfig;
- both functions on provided.al2023, arm64, JSON logs, no SAM-made roles.

CodeUri (a local path, which `sam package` replaces with an S3 object) becomes
a placeholder S3 URI. No AWS calls: the region is fixed and no managed policy
is looked up (the template uses none).
"""

import argparse
import copy
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fail(msg):
    print("sam_translate: error: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default=os.path.join(ROOT, "infra", "template.yaml"))
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "infra", "template.translated.json"))
    args = ap.parse_args()

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    from cfnlint.decode import decode  # the same YAML reading as cfn-lint
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    doc, matches = decode(args.template)
    if matches:
        fail("cannot read %s: %s" % (args.template, matches))
    doc = copy.deepcopy(doc)

    placeholder = "s3://hookline-offline-check/placeholder.zip"
    if "CodeUri" in ((doc.get("Globals") or {}).get("Function") or {}):
        doc["Globals"]["Function"]["CodeUri"] = placeholder
    for r in doc["Resources"].values():
        if r.get("Type") == "AWS::Serverless::Function" and "CodeUri" in (r.get("Properties") or {}):
            r["Properties"]["CodeUri"] = placeholder

    class NoManagedPolicies:
        def load(self):
            return {}

    try:
        out = transform(json.loads(json.dumps(doc)), {}, NoManagedPolicies())
    except InvalidDocumentException as e:
        fail("the SAM translator refused the template:\n  " + "\n  ".join(str(c) for c in e.causes))

    res = out["Resources"]
    problems = []

    def of_type(t):
        return {k: v for k, v in res.items() if v["Type"] == t}

    roles = of_type("AWS::IAM::Role")
    sam_roles = [k for k in roles if k.endswith("Role") and k not in ("IngestRole", "WorkerRole")]
    if sam_roles:
        problems.append("SAM generated roles %s (each function must use its own least-privilege role)" % sam_roles)

    functions = of_type("AWS::Lambda::Function")
    if len(functions) != 2:
        problems.append("expected 2 functions, found %s" % sorted(functions))
    for name, f in functions.items():
        p = f["Properties"]
        if p.get("Runtime") != "provided.al2023":
            problems.append("%s: Runtime %r, expected provided.al2023" % (name, p.get("Runtime")))
        if p.get("Architectures") != ["arm64"]:
            problems.append("%s: Architectures %r, expected [arm64]" % (name, p.get("Architectures")))
        if (p.get("LoggingConfig") or {}).get("LogFormat") != "JSON":
            problems.append("%s: LoggingConfig.LogFormat is not JSON" % name)
        if "LogGroup" not in (p.get("LoggingConfig") or {}):
            problems.append("%s: LoggingConfig.LogGroup not set (its log group would have no retention)" % name)

    urls = of_type("AWS::Lambda::Url")
    if len(urls) != 1:
        problems.append("expected 1 function URL, found %s" % sorted(urls))
    perms = of_type("AWS::Lambda::Permission")
    url_perm = next((p for p in perms.values() if p["Properties"].get("Action") == "lambda:InvokeFunctionUrl"), None)
    invoke_perm = next(
        (
            p
            for p in perms.values()
            if p["Properties"].get("Action") == "lambda:InvokeFunction" and p["Properties"].get("InvokedViaFunctionUrl") is not None
        ),
        None,
    )
    if not url_perm or url_perm["Properties"].get("FunctionUrlAuthType") != "NONE":
        problems.append("no lambda:InvokeFunctionUrl permission for AuthType NONE")
    if not invoke_perm or invoke_perm["Properties"].get("InvokedViaFunctionUrl") is not True:
        problems.append("no lambda:InvokeFunction permission with InvokedViaFunctionUrl (needed since October 2025)")
    for p in (url_perm, invoke_perm):
        if p and p.get("Condition") is None:
            problems.append("a public function URL permission is not conditional on AuthType NONE")

    esms = of_type("AWS::Lambda::EventSourceMapping")
    if len(esms) != 1:
        problems.append("expected 1 event source mapping, found %s" % sorted(esms))
    for name, m in esms.items():
        p = m["Properties"]
        if p.get("FunctionResponseTypes") != ["ReportBatchItemFailures"]:
            problems.append("%s: FunctionResponseTypes %r" % (name, p.get("FunctionResponseTypes")))
        if "MaximumConcurrency" not in (p.get("ScalingConfig") or {}):
            problems.append("%s: no ScalingConfig.MaximumConcurrency" % name)

    # The silent-hosts check: an hourly rule invoking the worker with the
    # input the worker reads, and the permission for EventBridge to invoke it.
    rules = of_type("AWS::Events::Rule")
    checks = [
        r
        for r in rules.values()
        if any(json.loads(t.get("Input") or "{}").get("hookline_check") == "silent-hosts" for t in r["Properties"].get("Targets") or [])
    ]
    if len(checks) != 1:
        problems.append("expected 1 scheduled rule with Input {\"hookline_check\": \"silent-hosts\"}, found %d" % len(checks))
    if not any(p["Properties"].get("Principal") == "events.amazonaws.com" for p in perms.values()):
        problems.append("no permission for EventBridge (events.amazonaws.com) to invoke the worker")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=False)
        f.write("\n")
    if problems:
        fail("the translated template is missing what it must contain:\n  " + "\n  ".join(problems))
    counts = {}
    for r in res.values():
        counts[r["Type"]] = counts.get(r["Type"], 0) + 1
    print(
        "sam_translate: OK: %d resources (%s) -> %s"
        % (len(res), ", ".join("%d %s" % (n, t.split("::", 1)[1]) for t, n in sorted(counts.items())), os.path.relpath(args.out))
    )


if __name__ == "__main__":
    main()
