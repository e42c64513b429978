#!/usr/bin/env bash
# Regenerates the golden outputs under golden/ with the real Helm (the oracle, v4.1.4).
# Run once after adding a chart or a case; the test suite only reads the committed files.
#   HELM=~/.cache/oracles/bin/helm crates/helm/tests/regen-golden.sh [case-prefix]
# For each line of cases.txt: golden/<case>.yaml holds stdout when helm succeeds,
# golden/<case>.err holds stderr when it fails. Flags are split on white space, never globbed.
set -euo pipefail
set -f
cd "$(dirname "$0")"
HELM=${HELM:-$HOME/.cache/oracles/bin/helm}
"$HELM" version --short | grep -q '^v4.1.4' || { echo "need Helm v4.1.4, got $("$HELM" version --short)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Isolate Helm from the user's configuration and cluster.
export KUBECONFIG=/nonexistent HELM_CACHE_HOME=$TMP/cache HELM_CONFIG_HOME=$TMP/config HELM_DATA_HOME=$TMP/data

# Packaged charts are built once and committed (archives carry timestamps; rebuilding would churn).
if [[ ! -f charts/packaged-sub/charts/pkg-0.2.0.tgz ]]; then
  mkdir -p charts/packaged-sub/charts
  "$HELM" package charts/_sources/pkg -d charts/packaged-sub/charts >/dev/null
fi
for c in app globals; do
  if [[ ! -f archives/$c-0.1.0.tgz ]]; then
    mkdir -p archives
    "$HELM" package "charts/$c" -d archives >/dev/null
  fi
done

mkdir -p golden
while read -r name chart release rest; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [[ -n "${1:-}" && "$name" != "$1"* ]] && continue
  if [[ "$chart" == */* ]]; then path=$chart; else path=charts/$chart; fi
  # shellcheck disable=SC2086 # word splitting of the flags is the point
  if "$HELM" template "$release" "$path" $rest >"$TMP/out" 2>"$TMP/err"; then
    mv "$TMP/out" "golden/$name.yaml"; rm -f "golden/$name.err"
  else
    mv "$TMP/err" "golden/$name.err"; rm -f "golden/$name.yaml"
  fi
done < cases.txt
echo "golden files: $(ls golden | wc -l)"
