#!/usr/bin/env bash
# Debian packages the tests and the lab need beyond Node: promtool and amtool (from the
# prometheus and prometheus-alertmanager packages, which also give lite mode its Prometheus and
# Alertmanager). Installed with apt-get when missing; nothing is done when they are there.
set -euo pipefail

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v amtool >/dev/null || missing+=(prometheus-alertmanager)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "missing: ${missing[*]} (Debian packages). Install them, e.g. 'sudo apt-get install ${missing[*]}'." >&2
  exit 1
fi
echo "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
