#!/usr/bin/env bash
# Installs every system and Python package the test suite needs. Idempotent; needs root (apt-get)
# or the packages already present. Add a package here when a test starts needing it.
set -euo pipefail

APT_PACKAGES=(
  git            # real Git servers for source-controller tests (git http-backend, git daemon)
  openssh-server # sshd for Git over SSH tests
  gnupg          # gpg signs commits and tags for the source crate's signature verification tests
  docker-registry # a real OCI registry on loopback
  python3-pip
)
PIP_PACKAGES=(
  "kubernetes-validate==1.33.1" # independent validator for generated CRDs
  "kubernetes==33.1.0"          # the Python client, an independent client of our API server
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

for p in "${PIP_PACKAGES[@]}"; do
  name=${p%%==*}
  want=${p##*==}
  have=$(python3 -m pip show "$name" 2>/dev/null | awk '/^Version:/{print $2}')
  [[ "$have" == "$want" ]] || python3 -m pip install -q "$p"
done
