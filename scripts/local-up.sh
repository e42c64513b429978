#!/usr/bin/env bash
# Builds fluxrs and runs `flux local up` on a fresh machine: the embedded API server, every
# implemented controller and a GitOps loop for the bundled examples/quickstart (or the PATH/URL
# given). Needs a Rust toolchain; installs git (used to serve local sources) when missing.
# Arguments go to `flux local up`, e.g. `scripts/local-up.sh --once` or `scripts/local-up.sh ./my-repo`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v git >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends git
fi
# No cd: a relative PATH argument stays relative to the caller's directory.
exec cargo run --quiet --release --manifest-path "$root/Cargo.toml" -p cli --bin flux -- local up "$@"
