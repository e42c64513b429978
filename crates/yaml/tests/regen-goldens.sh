#!/usr/bin/env bash
# Regenerates golden/*.out.yaml from golden/*.in.yaml with the oracle (`kubectl kustomize`,
# Kustomize v5.5). Each input is a resource file; the build keeps document order (fifo).
# Inputs the oracle rejects get a .err file instead. Tests never run this script.
set -euo pipefail
cd "$(dirname "$0")/golden"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for in in *.in.yaml; do
  name=${in%.in.yaml}
  rm -f "$name.out.yaml" "$name.err"
  cp "$in" "$tmp/res.yaml"
  printf 'resources: [res.yaml]\nsortOptions:\n  order: fifo\n' > "$tmp/kustomization.yaml"
  if ! kubectl kustomize "$tmp" > "$name.out.yaml" 2> "$tmp/err"; then
    rm -f "$name.out.yaml"
    cp "$tmp/err" "$name.err"
  fi
done
