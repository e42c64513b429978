#!/usr/bin/env python3
"""Regenerates yaml_oracle.json: rows [YAML text, fromYaml result, fromYamlArray result] as Helm
returns them (go-yaml v2 through sigs.k8s.io/yaml), checked by gotemplate's yaml_error unit tests.

Inputs are a hand-written list of error and edge cases plus deterministic random mutations
(inserted indicators, deleted characters, re-indented and duplicated lines) of typical chart
documents. All of them go through one `helm template` run of a throwaway chart.
Usage: yaml_oracle.py [HELM]  (default ~/.cache/oracles/bin/helm, v4.1.4).
"""
import base64
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HELM = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/oracles/bin/helm")

HAND = [
    "a: [",
    "a: {",
    "a: [1, 2",
    "]",
    "a: b: c",
    "a: 'x",
    "a: \"x",
    "a: *x",
    "a:\n  b: 1\n c: 2",
    "a:\n\tb: 1",
    "a: 1\nb: 2\nc: [",
    "a: 1\nb: 2\nc: @",
    "!x!y a",
    "a: b\n- c",
    "%FOO\n---\na",
    "[a, b",
    "? [a]\n: 1",
    "a: !!int x",
    "a: &x 1\nb: *y",
    "a: [\n",
    "a: [\n\n",
    "a: {b: 1",
    "a: {b: 1\n",
    "a: {b: 1,\nc: 2",
    "a: [1, 2\nb: 3",
    "{a: 1]",
    "[a: 1}",
    "}",
    "a: }",
    "a: ]",
    "- a\nb: 1",
    "a: 1\n- b",
    "a:\n  - b\n  c: 1",
    "a:\n- b\n- c\nd",
    "a\nb: c",
    "a: b\nc",
    "a: b\nc\n",
    "x\ny\nz: 1",
    "a: 'x\nb: 1",
    "a: \"x\nb: 1\n",
    "a: \"\\q\"",
    "a: \"\\xZZ\"",
    "a: b\n\tc: d",
    "\ta: 1",
    "a:\n  b:\n\t c: 1",
    "a: |\n\tb",
    "a: |0\n  x",
    "a: |x",
    "a: `x",
    "a: %x",
    "@a",
    "a: 1\n@b: 2",
    "- a\n - b",
    "- a\n-b",
    "a: - b",
    "a: b - c: d",
    "a: &x\n",
    "a: &\n",
    "a: *",
    "a: !<x",
    "a: 1\n---\nb: [",
    "---\na: 1\n...\n---\nb: {",
    "a: 1\n...\nb",
    "a: 1\n--- b\n]",
    "%YAML 1.1\n%YAML 1.1\n---\na",
    "%YAML 2.0\n---\na",
    "%TAG ! x\n%TAG ! y\n---\na",
    "a: b\n  c: d",
    "a:\n  b: c\n    d: e",
    "a: 'x'y",
    "a: \"x\"y",
    "a: [b]c",
    "a: {b: c}d",
    "- [a, b]]",
    "key: value\nother: [1, 2, 3\nlast: x",
    "a:\n  b: [1,\n  2,\n  3\n",
    "? a\n? b\n: c\n- d",
    "a: b\n---\n- c",
    "a: 1\nb: 2\nc: 3\nd: 4\ne: [",
    "a: 1\nb: 2\nc: 3\nd: 4\ne: b: c",
    "a: 1\nb: 2\nc: 3\nd: 4\n\te: 5",
    "\"a\nb\": 1",
    "[a\nb]: 1",
    "a: x\n  - y",
    "a:\n- b\n -c",
    "a: 'it''s'\nb: 'no",
    "a: |\n  x\n y: 1",
    "a: >\n  x\n y",
    "a: [1, 2]: 3",
    "{a: 1}: 2",
    "a: ,",
    "a: ?",
    ", a",
    "a: !!map x",
    "a: !!seq x",
    "a: !!float x",
    "a: !!bool x",
    "a: !!null x",
    "a: !!binary x",
    "a: 1\na: 2",
    "&a [*a]",
    "a: &a {b: *a}",
    "<<: 1",
    "a: 0x",
    "a: .inf",
    "a: [.nan]",
    "a: b\r\nc: [",
    "- a\n- b: [",
    "- a\n- b\n- c: x: y",
    "1: a\n2: b\n3: [",
    "x: y\n\n\n\nz: [",
    "a: [\n  1,\n  2\n",
    "a: {\n  b: 1\n",
    "a: b\n  c",
    "a: \"x\n\n\n",
    "a: 'x\n\n\n",
    "~: 1",
    "1.5: a",
    "true: x",
    "1: a",
    "0x10: a",
    "1e3: a",
    "18446744073709551616: a",
    "9223372036854775808: a",
    "a: !foo x",
    "a: !!str 1",
    "a: !!binary aGVsbG8=",
    "a: !!timestamp 2021-01-01",
    "a: !!int '1'",
    "a: !!float 1",
    "a: !!int 1.5",
    "a: \u0001",
    "a: 1\n... x",
    "- &a {x: 1}\n- <<: *a\n  y: 2",
    "<<: [1]",
    "a: [1, {b: 2}]\n? [1, 1.5, true, null, {c: d}]\n: x",
    "? {a: [1]}\n: x",
    "a: 0o17",
    "a: 017",
    "a: 1_000",
    "a: +1",
    "a: .5",
    "a: 1.",
    "a: 0b101",
    "a: 1e400",
    "a: -.INF",
    "a: y",
    "a: 2021-01-01T10:00:00Z",
    "!!map {a: 1}",
    "a: !!seq [1]",
    "a: !!map [1]",
    "a: !!str [1]",
    "a: !!int [1]",
    "a: \"\\x\"",
    "a: 'x\"\nb: 1'",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    app: y\ndata:\n  a: [1, 2\n",
    "image:\n  repository: nginx\n  tag: 1.2\n resources: {}\n",
    "items:\n  - name: a\n    value: 1\n  - name: b\n   value: 2\n",
    "a:\n  b:\n    c: d\n  e: f\n g: h\n",
    "list:\n- a\n- b\n  c: d\n",
    "a: |\n  line1\n  line2\nb: 'unterminated\nc: d\n",
    "a: \"esc \\z\"\n",
    "a: b\n\nc: d: e\n",
    "k: v # comment\nk2: [a, b] # c\nk3: {x: 1, y: [2, 3}\n",
    "a:\n  - b\n  -c: d\n",
    "- a: 1\n  b: 2\n- c: 3\n d: 4\n",
    "a: 'multi\n  line'\nb: 1",
    "a: [1,\n2]\nb: 2",
    "a: [1,\n2",
    "a:\n- [1,\n2]",
    "a: {x: 1,\ny: 2}",
    "a: &anc\n  b: 1\nc: *anc\nd: *nope",
    "a: b\n---\nc: d: e",
    "a: \"x\ny\"",
    "x: 1\n  y: 2",
    "a:\n\n\n  b: [",
    "- - - [",
    "a: b\n#c\n- d",
    "? a\n: b\n: c",
    "a: 1\n b: 2",
    "a: 1\n\tb: 2",
    "a:\n  b: 1\n\tc: 2",
    "a: 'x' # c\nb: 'y'z",
    "a: {b: c, d}\nx: [1, 2, 3]]",
    "a: b]",
    "a: b}",
    "a: [b, c]]",
    "text: \"a\\tb\"\nbad: \"\\u12\"",
    "a: >-\n  x\n  y\n b: 1",
    "﻿a: 1",
    "a: 1\r\nb: 2\r\n",
    "a: 1\rb: [\r",
    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: v",
    "a: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "a: 'x\n  y'\nb: \"p\n\n  q\"",
    "a: b\n---\n",
    "---\n---\na: 1",
    "...\na: 1",
    "--- |\n  text\n",
    "--- >-\n  a\n  b\n",
    "- !!str\n- !!int\n",
    "a: !!null",
    "a: !!bool",
    "a: &x\nb: *x",
    "? a\n? b\n",
    "{? a, b: c}",
    "[a, ? b: c]",
    "a: [b, {c: d}, [e]]",
    "key: \"\\u263A \\x41 \\N \\_ \\e\"",
    "a: 'don''t'",
    "a: \"\\\n  b\"",
    "a:    # c\n  b",
    "a: |+\n  x\n\n",
    "a: |-\n  x\n\n",
    "a: >\n  x\n\n  y\n   z\n",
    "- - a\n  - b\n- - c",
    "a:\n  - b\n  -\n  - c",
    "a: -",
    "a: - ",
    "a: ---",
    "a: ...",
    "a: :",
    "a: ':'",
    "a: b:c",
    "a: b :c",
    "a: [b:c]",
    "a: {b:c}",
    "a: {\"b\":c}",
    "a: [\"b\":c]",
    "http://x: 1",
    "a: !custom {x: 1}",
    "a: !!python/object x",
    "%YAML 1.2\n---\na: 1",
    "%TAG !e! tag:e.com,2000:\n---\na: !e!x 1",
    "a: *x\nx: &x 1",
    "1.0: a\n1: b",
    "a: 0777",
    "a: 0o",
    "a: 1__0",
    "a: _1",
    "a: 1e",
    "a: 1.5e+3",
    "a: -.5",
    "a: 0.",
    "a: 00",
    "a: -0",
    "a: +0.0",
    "a: 0x_1",
    "a: 0b_1",
    "a: 1:20",
    "a: true_",
    "a: NULL",
    "a: nULL",
    "a: Yes",
    "a: YeS",
    "a:\tb",
    "a: \tb",
    "a:\t\tb",
    "- \tb",
    "-\tb",
    "? \ta\n: b",
    "a:\n  -\tb",
    "a: [\tb]",
    "a: {b:\tc}",
    "a: b\t# c",
    "a:\t# c\n  b: 1",
    "a:\t\n  b: 1",
    "a: b \t",
    "a:\t[1]",
    "a:\t|\n  x",
    "a:\t&x 1",
    "a: 'x'\t",
    "a:  b",
    "a: |\n  x",
    "a: |\n  x\n",
    "a: >\n  x",
    "a: |+\n  x",
    "a: |-\n  x",
    "a: |\n  x\n  y",
    "a: |\n  x\n\n",
    "- |\n  x",
    "a: |\n  x\nb: 1",
    "a: >\n  x\n\n  y",
    "a: |\n  x\n  ",
    "a: |\n  x\n   ",
    "a: |2\n   x"
]

bases = [
 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    app: y\ndata:\n  a: \"1\"\n  b: 'two'\n",
 "image:\n  repository: nginx\n  tag: \"1.2\"\nresources:\n  limits:\n    cpu: 100m\n  requests: {}\n",
 "items:\n  - name: a\n    value: 1\n  - name: b\n    value: [1, 2, 3]\n",
 "a: |\n  line1\n  line2\nb: >\n  folded\n  text\nc: plain\n",
 "list:\n- a\n- b\n- {x: 1, y: [2, 3]}\n",
 "anchors:\n  base: &b {x: 1}\n  derived:\n    <<: *b\n    y: 2\n",
 "env:\n  - name: FOO\n    value: \"bar\"\n  - name: N\n    valueFrom:\n      secretKeyRef: {name: s, key: k}\n",
 "# comment\nkey: value # trailing\nother: \"quoted: value\"\nnum: 0x1F\nbool: yes\n",
 "spec:\n  template:\n    spec:\n      containers:\n        - name: c\n          args: [\"--a\", \"--b=1\"]\n          ports:\n            - containerPort: 80\n",
 "- a: 1\n  b: 2\n- c: 3\n  d:\n    - e\n    - f\n",
]

BASES_2 = [
 "metadata:\n  annotations:\n    checksum/config: \"abc123\"\n    note: 'it''s fine'\n  labels: {app: web, tier: \"front\"}\n",
 "ingress:\n  hosts:\n    - host: a.example.com\n      paths: [\"/\", \"/api\"]\n  tls: []\n",
 "config: |\n  server {\n    listen 80;\n  }\nscript: >-\n  echo hi\n  && exit 0\n",
 "x: &base\n  a: 1\n  b: [1, 2]\ny:\n  <<: *base\n  c: 3\nz: *base\n",
 "matrix: [[1, 2], [3, 4], {k: [5, {m: n}]}]\nempty: {}\nnull_v: ~\n",
 "'quoted key': v\n\"dq key\": \"esc \\\" \\n\"\n? complex\n: value\n",
 "--- \na: 1\n...\n---\nb: 2\n",
 "steps:\n- name: build\n  run: |\n    make\n    make test\n- name: deploy\n  with: {env: prod, dry: false}\n",
]

CHARS = list(":[]{}-'\"\t#&*!|>,?% \n@`")


def mutate(rng, s):
    for _ in range(rng.randint(1, 2)):
        op = rng.random()
        i = rng.randrange(len(s) + 1)
        if op < 0.4:
            s = s[:i] + rng.choice(CHARS) + s[i:]
        elif op < 0.65 and len(s) > 1:
            s = s[:i] + s[i + 1:]
        elif op < 0.85:
            lines = s.split("\n")
            j = rng.randrange(len(lines))
            d = rng.choice([-2, -1, 1, 2])
            if d > 0:
                lines[j] = " " * d + lines[j]
            else:
                lines[j] = lines[j][min(-d, len(lines[j]) - len(lines[j].lstrip(" "))):]
            s = "\n".join(lines)
        else:
            lines = s.split("\n")
            j = rng.randrange(len(lines))
            lines.insert(j, lines[j])
            s = "\n".join(lines)
    return s


def inputs():
    out = list(HAND)
    seen = set(out)
    for seed, count, docs in ((1, 400, bases), (2, 400, bases), (7, 600, BASES_2)):
        rng = random.Random(seed)
        batch = set()
        while len(batch) < count:
            batch.add(mutate(rng, rng.choice(docs)))
        for y in sorted(batch):
            if y not in seen:
                seen.add(y)
                out.append(y)
    return out


def main():
    ys = inputs()
    d = tempfile.mkdtemp(prefix="yaml-oracle-")
    try:
        os.makedirs(os.path.join(d, "templates"))
        with open(os.path.join(d, "Chart.yaml"), "w") as f:
            f.write("apiVersion: v2\nname: o\nversion: 0.1.0\n")
        with open(os.path.join(d, "values.yaml"), "w") as f:
            json.dump({"ys": ys}, f)
        with open(os.path.join(d, "templates", "a.yaml"), "w") as f:
            f.write('out: "{{ $o := list }}{{ range .Values.ys }}'
                    '{{ $o = append $o (list (fromYaml .) (fromYamlArray .)) }}{{ end }}'
                    '{{ toJson $o | b64enc }}"\n')
        p = subprocess.run([HELM, "template", "r", d], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(p.stderr)
    finally:
        shutil.rmtree(d)
    res = json.loads(base64.b64decode(re.search(r'out: "([^"]*)"', p.stdout).group(1)))
    with open(os.path.join(HERE, "yaml_oracle.json"), "w") as f:
        f.write("[\n")
        for n, (y, (a, b)) in enumerate(zip(ys, res)):
            row = json.dumps([y, a, b], ensure_ascii=False, separators=(",", ":"))
            f.write(row + (",\n" if n + 1 < len(ys) else "\n"))
        f.write("]\n")
    print("%d YAML texts written to yaml_oracle.json" % len(ys))


if __name__ == "__main__":
    main()
