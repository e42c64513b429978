#!/usr/bin/env python3
"""Regenerates golden.json: renders every case of cases.py through real Helm (the oracle).

Each case becomes templates/_cNNNN.tpl (the case text, verbatim) in a throwaway chart,
rendered by templates/cNNNN.yaml as
    out: "{{ include "gotpl/templates/_cNNNN.tpl" .Values.cases.cNNNN | b64enc }}"
so the output keeps every byte. A case that fails is re-rendered alone and its Helm error
message recorded. Usage: regen.py [HELM]  (default ~/.cache/oracles/bin/helm, v4.1.4).
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases import CASES  # noqa: E402

HELM = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/oracles/bin/helm")


def case_id(i):
    return "c%04d" % i


def wrapper(cid):
    return 'out: "{{ include "gotpl/templates/_%s.tpl" .Values.cases.%s | b64enc }}"\n' % (cid, cid)


def render(cases):
    """cases: list of (cid, template, values). Returns (outputs dict, error or None)."""
    d = tempfile.mkdtemp(prefix="gotpl-")
    try:
        os.makedirs(os.path.join(d, "templates"))
        with open(os.path.join(d, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: gotpl\nversion: 0.1.0\n")
        with open(os.path.join(d, "values.yaml"), "w") as f:
            json.dump({"cases": {cid: v for cid, _, v in cases}}, f)
        for cid, tpl, _ in cases:
            with open(os.path.join(d, "templates", "_%s.tpl" % cid), "w") as f:
                f.write(tpl)
            with open(os.path.join(d, "templates", "%s.yaml" % cid), "w") as f:
                f.write(wrapper(cid))
        p = subprocess.run([HELM, "template", "rel", d], capture_output=True, text=True)
        if p.returncode != 0:
            err = p.stderr.strip()
            if err.startswith("Error: "):
                err = err[len("Error: "):]
            return {}, err
        outs = {}
        for doc in p.stdout.split("\n---\n"):
            m = re.search(r"# Source: gotpl/templates/(c\d{4})\.yaml\nout: \"([^\"]*)\"", doc)
            if m:
                outs[m.group(1)] = base64.b64decode(m.group(2)).decode("utf-8", "replace")
        return outs, None
    finally:
        shutil.rmtree(d)


def main():
    items = []
    for i, c in enumerate(CASES):
        name, tpl, values = c[0], c[1], (c[2] if len(c) > 2 else {})
        cid = case_id(i)
        tpl = tpl.replace('"@', '"%s-' % cid)
        items.append((cid, name, tpl, values))
    pending = [(cid, tpl, v) for cid, _, tpl, v in items]
    results = {}
    while pending:
        outs, err = render(pending)
        if err is None:
            for cid, _, _ in pending:
                results[cid] = {"output": outs[cid]}
            break
        m = re.search(r"gotpl/templates/_?(c\d{4})", err)
        if not m:
            sys.exit("cannot attribute error: " + err)
        bad = m.group(1)
        one = [x for x in pending if x[0] == bad]
        _, err1 = render(one)
        results[bad] = {"error": err1 if err1 is not None else err}
        pending = [x for x in pending if x[0] != bad]
    golden = []
    for cid, name, tpl, values in items:
        g = {"id": cid, "name": name, "template": tpl, "values": values}
        g.update(results[cid])
        golden.append(g)
    with open(os.path.join(HERE, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")
    nerr = sum(1 for g in golden if "error" in g)
    print("%d cases (%d errors) written to golden.json" % (len(golden), nerr))


if __name__ == "__main__":
    main()
