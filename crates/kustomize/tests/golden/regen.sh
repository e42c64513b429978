#!/usr/bin/env bash
# Regenerates the golden corpus: writes every case's input tree (cases.py), then records the
# output of the real tool (`kubectl kustomize`, Kustomize v5.5) as expected.yaml, or its error
# message as expected-error.txt when it fails. Run from anywhere; needs python3 and kubectl.
set -euo pipefail
cd "$(dirname "$0")"
kubectl version --client 2>/dev/null | grep -q 'Kustomize Version: v5.5' || {
  echo "kubectl with Kustomize v5.5 is required" >&2; exit 1; }
python3 cases.py
for case in */; do
  case=${case%/}
  [ -d "$case/input" ] || continue
  target=.
  [ -f "$case/target" ] && target=$(cat "$case/target")
  rm -f "$case/expected.yaml" "$case/expected-error.txt"
  if ! (cd "$case/input" && kubectl kustomize "$target") > "$case/expected.yaml" 2>/tmp/kz-err; then
    rm -f "$case/expected.yaml"
    # Keep the message but drop absolute paths of this machine and klog's time/pid prefix.
    sed -e "s#$(pwd)/$case/input#<root>#g" -e 's/^E[0-9]* [0-9:.]* *[0-9]* [a-z_.]*:[0-9]*\] //' \
      /tmp/kz-err > "$case/expected-error.txt"
  fi
done
echo "cases: $(ls -d */ | wc -l)"
