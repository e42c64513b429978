#!/usr/bin/env bash
# Regenerates golden/smp/*/out.yaml with the oracle (`kubectl kustomize`, Kustomize v5.5): each
# case dir holds base.yaml (one object) and patch.yaml (a strategic merge patch of it).
# Cases the oracle rejects get an `err` file instead. Tests never run this script.
set -euo pipefail
cd "$(dirname "$0")/golden/smp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in */; do
  d=${d%/}
  rm -f "$d/out.yaml" "$d/err"
  cp "$d/base.yaml" "$d/patch.yaml" "$tmp/"
  printf 'resources: [base.yaml]\npatches:\n- path: patch.yaml\n' > "$tmp/kustomization.yaml"
  if ! kubectl kustomize "$tmp" > "$d/out.yaml" 2> "$tmp/err"; then
    rm -f "$d/out.yaml"
    cp "$tmp/err" "$d/err"
  fi
done

# Kubernetes (apimachinery) mode: `kubectl patch --local` applies the same patch client-side.
for d in */; do
  d=${d%/}
  rm -f "$d/k8s.json" "$d/k8s.err"
  if ! kubectl patch --local -f "$d/base.yaml" --type strategic --patch-file "$d/patch.yaml" -o json \
      > "$d/k8s.json" 2> "$tmp/err"; then
    rm -f "$d/k8s.json"
    cp "$tmp/err" "$d/k8s.err"
  fi
done

# JSON 6902 patches as kustomize applies them (patches with a target), under golden/json6902.
cd ../json6902
for d in */; do
  d=${d%/}
  rm -f "$d/out.yaml" "$d/err"
  cp "$d/base.yaml" "$d/patch.yaml" "$tmp/"
  printf 'resources: [base.yaml]\npatches:\n- path: patch.yaml\n  target:\n    kind: Deployment\n' > "$tmp/kustomization.yaml"
  if ! kubectl kustomize "$tmp" > "$d/out.yaml" 2> "$tmp/err"; then
    rm -f "$d/out.yaml"
    cp "$tmp/err" "$d/err"
  fi
done
