"""Reads what ikesim pushed back out of CloudWatch (moto in the tests), with boto3: a
client independent of the AWS SDK for Rust that ikesim pushes with.

    read_back.py logs GROUP_PREFIX
        {"groups": {GROUP: {STREAM: [{"timestamp": ms, "message": "..."}, ...]}},
         "get_log_events_calls": N}
        Every group under the prefix, every stream, every event: GetLogEvents from the head,
        paging until the returned nextForwardToken equals the one sent (reference section 5).
    read_back.py metrics NAMESPACE METRIC FIRST LAST PERIOD
        {"series": {"VPN_ID TUNNEL_IP": [["2026-12-03T11:05:00Z", value], ...]}}
        GetMetricData (Maximum per PERIOD seconds, from FIRST to LAST + PERIOD, RFC 3339
        times) for every VpnId/TunnelIpAddress pair of METRIC: one bucket per datum when
        the datums are PERIOD apart from FIRST on.

Endpoint, credentials and region come from the environment (AWS_ENDPOINT_URL etc.).
"""

import datetime
import json
import sys

import boto3


def logs(prefix):
    client = boto3.client("logs")
    out = {}
    calls = 0
    for page in client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        for group in page["logGroups"]:
            name = group["logGroupName"]
            streams = {}
            for spage in client.get_paginator("describe_log_streams").paginate(logGroupName=name):
                for stream in spage["logStreams"]:
                    sname = stream["logStreamName"]
                    events = []
                    token = None
                    while True:
                        kwargs = {
                            "logGroupName": name,
                            "logStreamName": sname,
                            "startFromHead": True,
                        }
                        if token is not None:
                            kwargs["nextToken"] = token
                        resp = client.get_log_events(**kwargs)
                        calls += 1
                        events.extend(
                            {"timestamp": e["timestamp"], "message": e["message"]}
                            for e in resp["events"]
                        )
                        if resp["nextForwardToken"] == token:
                            break
                        token = resp["nextForwardToken"]
                    streams[sname] = events
            out[name] = streams
    return {"groups": out, "get_log_events_calls": calls}


def parse(time):
    return datetime.datetime.fromisoformat(time.replace("Z", "+00:00"))


def metrics(namespace, metric, first, last, period):
    client = boto3.client("cloudwatch")
    start = parse(first)
    end = parse(last) + datetime.timedelta(seconds=int(period))
    series = {}
    listed = client.list_metrics(Namespace=namespace, MetricName=metric)["Metrics"]
    for i, m in enumerate(listed):
        dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
        key = f'{dims.get("VpnId")} {dims.get("TunnelIpAddress")}'
        points = []
        token = None
        while True:
            kwargs = {
                "MetricDataQueries": [
                    {
                        "Id": f"m{i}",
                        "MetricStat": {
                            "Metric": m,
                            "Period": int(period),
                            "Stat": "Maximum",
                        },
                    }
                ],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                kwargs["NextToken"] = token
            resp = client.get_metric_data(**kwargs)
            for r in resp["MetricDataResults"]:
                points.extend(
                    [t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), v]
                    for t, v in zip(r["Timestamps"], r["Values"])
                )
            token = resp.get("NextToken")
            if not token:
                break
        series[key] = sorted(points)
    return {"series": series}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "logs":
        result = logs(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == "metrics":
        result = metrics(*sys.argv[2:])
    else:
        sys.exit(__doc__)
    json.dump(result, sys.stdout)


main()
