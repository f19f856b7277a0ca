"""Decodes ikesim's subscription deliveries exactly as a CloudWatch Logs subscriber would.

Usage: python3 decode.py DIR

For every DIR/*.lambda.json, in name order (the delivery sequence), prints one JSON line:
{"file": "<name>", "data": <the DATA_MESSAGE>}. The DATA_MESSAGE is taken from the Lambda
event the way a Lambda function takes it,

    json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))

and must equal the decoded .json.gz beside it, byte for byte in its gzip form too (both
forms carry the same delivery). Exits 1, saying why, on anything else: a .json.gz without
its .lambda.json or the reverse, data that differs, JSON that is not a DATA_MESSAGE.
"""

import base64
import gzip
import json
import pathlib
import sys


def fail(message):
    print(f"decode.py: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 2:
        fail("usage: decode.py DIR")
    directory = pathlib.Path(sys.argv[1])
    lambdas = sorted(directory.glob("*.lambda.json"))
    gzips = sorted(directory.glob("*.json.gz"))
    stems = [p.name[: -len(".lambda.json")] for p in lambdas]
    if stems != [p.name[: -len(".json.gz")] for p in gzips]:
        fail(f"the .lambda.json and .json.gz files do not pair up in {directory}")
    others = [
        p.name
        for p in directory.iterdir()
        if not (p.name.endswith(".lambda.json") or p.name.endswith(".json.gz"))
    ]
    if others:
        fail(f"unexpected files in {directory}: {others}")
    for stem, lambda_path, gzip_path in zip(stems, lambdas, gzips):
        event = json.loads(lambda_path.read_text())
        raw = base64.b64decode(event["awslogs"]["data"])
        data = json.loads(gzip.decompress(raw))
        if raw != gzip_path.read_bytes():
            fail(f"{lambda_path.name} does not carry the bytes of {gzip_path.name}")
        if data.get("messageType") != "DATA_MESSAGE":
            fail(f"{lambda_path.name}: messageType is {data.get('messageType')!r}")
        print(json.dumps({"file": stem, "data": data}))


main()
