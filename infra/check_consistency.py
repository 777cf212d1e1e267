#!/usr/bin/env python3
"""Check that infra/template.yaml and localstack/resources.json define the same queues.

    python3 infra/check_consistency.py [--template PATH] [--resources PATH]
    python3 infra/check_consistency.py --self-test

The local stack (localstack/resources.json, created by localstack/bootstrap.py)
and the AWS deployment (infra/template.yaml) must behave alike, so their queue,
dead-letter-queue and log-group settings must agree. Compared, per queue
(matched by name, the template's ${NamePrefix} taken at its default):

- every SQS attribute either file sets (VisibilityTimeout, MaximumMessageSize,
  MessageRetentionPeriod, ReceiveMessageWaitTimeSeconds, DelaySeconds, ...):
  set in both, to the same value; the settings each queue must have are set;
- RedrivePolicy: the same dead-letter queue and maxReceiveCount;
- RedriveAllowPolicy: the same redrivePermission and source queues;
- the worker: its Timeout equals resources.json's timeout_seconds, its queue's
  VisibilityTimeout is exactly 6 x that timeout in both files, it consumes
  the queue resources.json names it the consumer of, and its
  HOOKLINE_MAX_RECEIVE_COUNT equals that queue's maxReceiveCount;
- log groups: the same names, the same RetentionInDays.

Every difference is printed with the setting's name and both values; the exit
status is 1 if there is any. --self-test changes one setting at a time in
memory and asserts that each change is reported (the check can fail).

Needs PyYAML (cfn-lint depends on it; scripts/check-infra runs this in its venv).
"""

import argparse
import copy
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
DEFAULT_RESOURCES = os.path.join(ROOT, "localstack", "resources.json")

# resources.json queue keys that are not SQS attributes.
LOCAL_META_KEYS = {"QueueName", "env", "consumer"}
# Template queue properties that are not compared: names (matched instead),
# and settings that only matter on AWS. SqsManagedSseEnabled: encryption at
# rest with SQS-owned keys, nothing to emulate locally.
TEMPLATE_ONLY_KEYS = {"QueueName", "SqsManagedSseEnabled", "Tags"}
# Settings each queue must have in both files, by role.
REQUIRED_SOURCE = [
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
]
REQUIRED_DLQ = ["MaximumMessageSize", "MessageRetentionPeriod", "RedriveAllowPolicy"]
VISIBILITY_FACTOR = 6
WORKER = "hookline-worker"


class CfnLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short forms (!Ref, !Sub ...) as their long forms."""


def _cfn_tag(loader, tag_suffix, node):
    name = tag_suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if name == "Ref":
        return {"Ref": value}
    if name == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if name == "Condition":
        return {"Condition": value}
    return {"Fn::" + name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


class Report:
    def __init__(self):
        self.problems = []
        self.compared = 0

    def problem(self, setting, where, message):
        self.problems.append((setting, where, message))

    def equal(self, setting, where, template_value, local_value):
        self.compared += 1
        if normalize(template_value) != normalize(local_value):
            self.problem(
                setting,
                where,
                "template.yaml has %s, resources.json has %s"
                % (json.dumps(template_value), json.dumps(local_value)),
            )


def normalize(value):
    """Numbers and numeric strings compare equal (CloudFormation takes both)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return str(int(value))
    if isinstance(value, list):
        return sorted(normalize(v) for v in value)
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return value


class Template:
    """The parts of the SAM template the check needs, with ${NamePrefix} etc. at their defaults."""

    def __init__(self, doc):
        self.doc = doc
        self.resources = doc.get("Resources") or {}
        self.params = {
            name: str(p["Default"])
            for name, p in (doc.get("Parameters") or {}).items()
            if isinstance(p, dict) and "Default" in p
        }

    def sub(self, value):
        """Resolves a string, !Sub (parameters at their defaults) or !Ref of a parameter."""
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"]
            if not isinstance(text, str):
                raise ValueError("only the one-argument form of Fn::Sub is supported: %r" % (value,))

            def repl(m):
                name = m.group(1)
                if name in self.params:
                    return self.params[name]
                if name.startswith("AWS::"):
                    return "<%s>" % name
                raise ValueError("cannot resolve ${%s} in %r" % (name, text))

            return re.sub(r"\$\{([A-Za-z0-9:._]+)\}", repl, text)
        if isinstance(value, dict) and "Ref" in value and value["Ref"] in self.params:
            return self.params[value["Ref"]]
        raise ValueError("cannot resolve %r" % (value,))

    def of_type(self, rtype):
        return {k: r for k, r in self.resources.items() if isinstance(r, dict) and r.get("Type") == rtype}

    def queues(self):
        """{queue name: (logical id, properties)}"""
        out = {}
        for lid, r in self.of_type("AWS::SQS::Queue").items():
            props = r.get("Properties") or {}
            if "QueueName" not in props:
                raise ValueError("queue %s has no QueueName; the check matches queues by name" % lid)
            out[self.sub(props["QueueName"])] = (lid, props)
        return out

    def queue_name_of(self, value, queues_by_id):
        """Queue name for a GetAtt X.Arn / Ref X, or an ARN string ending in the name."""
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            lid = value["Fn::GetAtt"][0]
        elif isinstance(value, dict) and "Ref" in value:
            lid = value["Ref"]
        else:
            return self.sub(value).rsplit(":", 1)[-1]
        if lid not in queues_by_id:
            raise ValueError("%r does not refer to a queue of the template" % (value,))
        return queues_by_id[lid]

    def worker(self):
        """(logical id, properties) of the function built from the hookline-worker binary."""
        for lid, r in self.of_type("AWS::Serverless::Function").items():
            binary = ((r.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary")
            if binary == WORKER:
                return lid, r.get("Properties") or {}
        raise ValueError("no AWS::Serverless::Function with Metadata.BuildProperties.Binary %s" % WORKER)

    def global_function(self, key):
        return ((self.doc.get("Globals") or {}).get("Function") or {}).get(key)

    def log_groups(self):
        out = {}
        for lid, r in self.of_type("AWS::Logs::LogGroup").items():
            props = r.get("Properties") or {}
            if "LogGroupName" not in props:
                raise ValueError("log group %s has no LogGroupName" % lid)
            out[self.sub(props["LogGroupName"])] = props
        return out


def check(template_doc, local):
    rep = Report()
    tpl = Template(template_doc)
    tq = tpl.queues()
    queues_by_id = {lid: name for name, (lid, _) in tq.items()}
    lq = {q["QueueName"]: q for q in local.get("queues", [])}

    for name in sorted(set(tq) - set(lq)):
        rep.problem("QueueName", name, "queue in template.yaml only")
    for name in sorted(set(lq) - set(tq)):
        rep.problem("QueueName", name, "queue in resources.json only")

    dlq_names = {q["RedrivePolicy"]["deadLetterQueue"] for q in lq.values() if "RedrivePolicy" in q}
    for name in sorted(set(tq) & set(lq)):
        _, tprops = tq[name]
        lprops = lq[name]
        where = "queue " + name
        required = REQUIRED_DLQ if name in dlq_names else REQUIRED_SOURCE
        for key in required:
            for label, props in (("template.yaml", tprops), ("resources.json", lprops)):
                if key not in props:
                    rep.problem(key, where, "required setting missing from %s" % label)
        tkeys = set(tprops) - TEMPLATE_ONLY_KEYS
        lkeys = set(lprops) - LOCAL_META_KEYS
        for key in sorted(tkeys ^ lkeys):
            if key in required:
                continue  # reported above
            side = "template.yaml" if key in tkeys else "resources.json"
            rep.problem(key, where, "set only in %s (%s)" % (side, json.dumps((tprops if key in tkeys else lprops)[key], default=str)))
        for key in sorted(tkeys & lkeys):
            if key == "RedrivePolicy":
                trp, lrp = tprops[key], lprops[key]
                rep.equal(
                    "RedrivePolicy.deadLetterQueue",
                    where,
                    tpl.queue_name_of(trp.get("deadLetterTargetArn"), queues_by_id),
                    lrp.get("deadLetterQueue"),
                )
                rep.equal("maxReceiveCount", where, trp.get("maxReceiveCount"), lrp.get("maxReceiveCount"))
            elif key == "RedriveAllowPolicy":
                trap, lrap = tprops[key], lprops[key]
                rep.equal(
                    "RedriveAllowPolicy.redrivePermission",
                    where,
                    trap.get("redrivePermission"),
                    lrap.get("redrivePermission"),
                )
                tsources = [tpl.queue_name_of(a, queues_by_id) for a in trap.get("sourceQueueArns", [])]
                rep.equal("RedriveAllowPolicy.sourceQueues", where, tsources, lrap.get("sourceQueues", []))
            else:
                rep.equal(key, where, tprops[key], lprops[key])

    # The worker, its timeout and its queue.
    wid, wprops = tpl.worker()
    ltimeout = (local.get("functions") or {}).get(WORKER, {}).get("timeout_seconds")
    ttimeout = wprops.get("Timeout", tpl.global_function("Timeout"))
    if ltimeout is None:
        rep.problem("Timeout", "function " + WORKER, "resources.json has no functions.%s.timeout_seconds" % WORKER)
    if ttimeout is None:
        rep.problem("Timeout", "function " + WORKER, "template.yaml's %s has no Timeout" % wid)
    if ltimeout is not None and ttimeout is not None:
        rep.equal("Timeout", "function " + WORKER, ttimeout, ltimeout)

    consumed = [q["QueueName"] for q in lq.values() if q.get("consumer") == WORKER]
    sqs_events = [
        e.get("Properties") or {} for e in (wprops.get("Events") or {}).values() if isinstance(e, dict) and e.get("Type") == "SQS"
    ]
    tconsumed = [tpl.queue_name_of(e.get("Queue"), queues_by_id) for e in sqs_events]
    rep.equal("consumer", "function " + WORKER, tconsumed, consumed)

    for name in consumed:
        for label, props, timeout in (
            ("template.yaml", tq.get(name, (None, {}))[1], ttimeout),
            ("resources.json", lq.get(name, {}), ltimeout),
        ):
            vt = props.get("VisibilityTimeout")
            if vt is None or timeout is None:
                continue
            rep.compared += 1
            if int(vt) != VISIBILITY_FACTOR * int(timeout):
                rep.problem(
                    "VisibilityTimeout",
                    "queue " + name,
                    "%s: VisibilityTimeout %s is not %d x the worker Timeout %s (= %d)"
                    % (label, vt, VISIBILITY_FACTOR, timeout, VISIBILITY_FACTOR * int(timeout)),
                )
        rp = tq.get(name, (None, {}))[1].get("RedrivePolicy") or {}
        env = (wprops.get("Environment") or {}).get("Variables") or {}
        if "maxReceiveCount" in rp:
            if "HOOKLINE_MAX_RECEIVE_COUNT" not in env:
                rep.problem(
                    "HOOKLINE_MAX_RECEIVE_COUNT",
                    "function " + WORKER,
                    "template.yaml's worker does not set it (the worker would assume 5)",
                )
            else:
                rep.compared += 1
                if normalize(env["HOOKLINE_MAX_RECEIVE_COUNT"]) != normalize(rp["maxReceiveCount"]):
                    rep.problem(
                        "HOOKLINE_MAX_RECEIVE_COUNT",
                        "function " + WORKER,
                        "template.yaml: worker env %s, but queue %s has maxReceiveCount %s"
                        % (env["HOOKLINE_MAX_RECEIVE_COUNT"], name, rp["maxReceiveCount"]),
                    )

    # Log groups.
    tlg = tpl.log_groups()
    llg = {g["LogGroupName"]: g for g in local.get("log_groups", [])}
    for name in sorted(set(tlg) - set(llg)):
        rep.problem("LogGroupName", name, "log group in template.yaml only")
    for name in sorted(set(llg) - set(tlg)):
        rep.problem("LogGroupName", name, "log group in resources.json only")
    for name in sorted(set(tlg) & set(llg)):
        t, l = tlg[name].get("RetentionInDays"), llg[name].get("RetentionInDays")
        if t is None or l is None:
            rep.problem("RetentionInDays", "log group " + name, "missing (template.yaml %r, resources.json %r)" % (t, l))
        else:
            rep.equal("RetentionInDays", "log group " + name, t, l)
    return rep


def load(template_path, resources_path):
    with open(template_path, encoding="utf-8") as f:
        template_doc = yaml.load(f, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)
    with open(resources_path, encoding="utf-8") as f:
        local = json.load(f)
    return template_doc, local


def self_test(template_doc, local):
    """Each mutation must be reported, naming the setting it changed."""
    base = check(template_doc, local)
    if base.problems:
        print("self-test: the files do not agree to begin with; fix that first", file=sys.stderr)
        return 1
    tq = Template(template_doc).queues()
    source = next(n for n, q in ((q["QueueName"], q) for q in local["queues"]) if "RedrivePolicy" in q)
    dlq = next(q["QueueName"] for q in local["queues"] if "RedriveAllowPolicy" in q)
    sid, did = tq[source][0], tq[dlq][0]
    wid = Template(template_doc).worker()[0]

    def tq_props(doc, lid):
        return doc["Resources"][lid]["Properties"]

    def lq_by_name(loc, name):
        return next(q for q in loc["queues"] if q["QueueName"] == name)

    mutations = [
        ("VisibilityTimeout", "template", lambda d, l: tq_props(d, sid).__setitem__("VisibilityTimeout", 181)),
        ("VisibilityTimeout", "resources", lambda d, l: lq_by_name(l, source).__setitem__("VisibilityTimeout", 240)),
        ("MaximumMessageSize", "template", lambda d, l: tq_props(d, did).__setitem__("MaximumMessageSize", 262144)),
        ("MessageRetentionPeriod", "resources", lambda d, l: lq_by_name(l, source).__setitem__("MessageRetentionPeriod", 86400)),
        ("ReceiveMessageWaitTimeSeconds", "template", lambda d, l: tq_props(d, sid).__setitem__("ReceiveMessageWaitTimeSeconds", 10)),
        ("ReceiveMessageWaitTimeSeconds", "template (removed)", lambda d, l: tq_props(d, sid).pop("ReceiveMessageWaitTimeSeconds")),
        ("maxReceiveCount", "resources", lambda d, l: lq_by_name(l, source)["RedrivePolicy"].__setitem__("maxReceiveCount", 3)),
        ("RedriveAllowPolicy.redrivePermission", "template", lambda d, l: tq_props(d, did)["RedriveAllowPolicy"].__setitem__("redrivePermission", "allowAll")),
        ("RedriveAllowPolicy", "resources (removed)", lambda d, l: lq_by_name(l, dlq).pop("RedriveAllowPolicy")),
        ("DelaySeconds", "template (added)", lambda d, l: tq_props(d, sid).__setitem__("DelaySeconds", 5)),
        ("RetentionInDays", "template", lambda d, l: next(r for r in d["Resources"].values() if r.get("Type") == "AWS::Logs::LogGroup")["Properties"].__setitem__("RetentionInDays", 30)),
        ("Timeout", "template", lambda d, l: d["Resources"][wid]["Properties"].__setitem__("Timeout", 60)),
        ("HOOKLINE_MAX_RECEIVE_COUNT", "template", lambda d, l: d["Resources"][wid]["Properties"]["Environment"]["Variables"].__setitem__("HOOKLINE_MAX_RECEIVE_COUNT", "7")),
        ("QueueName", "resources", lambda d, l: lq_by_name(l, dlq).__setitem__("QueueName", dlq + "-x")),
    ]
    failures = 0
    for setting, where, mutate in mutations:
        d, l = copy.deepcopy(template_doc), copy.deepcopy(local)
        mutate(d, l)
        try:
            rep = check(d, l)
            reported = {p[0] for p in rep.problems}
        except (ValueError, KeyError, StopIteration) as e:
            reported = {"(error: %s)" % e}
        ok = any(r == setting or r.startswith(setting + ".") for r in reported)
        failures += not ok
        print("self-test: %-4s %s changed in %s -> reported: %s" % ("ok" if ok else "FAIL", setting, where, ", ".join(sorted(reported)) or "nothing"))
    if failures:
        print("self-test: %d change(s) went unreported" % failures, file=sys.stderr)
        return 1
    print("self-test: all %d changes were reported" % len(mutations))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default=DEFAULT_TEMPLATE)
    ap.add_argument("--resources", default=DEFAULT_RESOURCES)
    ap.add_argument("--self-test", action="store_true", help="assert that a change of each setting is reported")
    args = ap.parse_args()
    template_doc, local = load(args.template, args.resources)
    if args.self_test:
        return self_test(template_doc, local)
    try:
        rep = check(template_doc, local)
    except ValueError as e:
        print("check_consistency: error: %s" % e, file=sys.stderr)
        return 1
    rel = lambda p: os.path.relpath(p, os.getcwd())  # noqa: E731
    if rep.problems:
        print("check_consistency: %s and %s disagree:" % (rel(args.template), rel(args.resources)), file=sys.stderr)
        for setting, where, message in rep.problems:
            print("  %s (%s): %s" % (setting, where, message), file=sys.stderr)
        print("Change both files together (localstack/resources.json is the local stack's definition).", file=sys.stderr)
        return 1
    print(
        "check_consistency: OK: %s and %s agree (%d settings compared)"
        % (rel(args.template), rel(args.resources), rep.compared)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
