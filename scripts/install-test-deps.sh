#!/usr/bin/env bash
# Installs the system packages the tests use, when they are missing: kubectl (the end-to-end tests drive the real
# client), Prometheus (the remote-write round trip) and jq (the examples' READMEs read /health with it). Safe to run again; needs root or sudo for apt.
set -euo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installing ${need[*]} from Debian's packages"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # apt starts the Debian prometheus service on some systems; tests start their own on a private port.
  $SUDO systemctl stop prometheus >/dev/null 2>&1 || true
fi
command -v kubectl >/dev/null 2>&1 || { echo "kubectl is required for the end-to-end tests (v1.32 is on every project machine)"; exit 1; }
echo "Test dependencies present: kubectl $(kubectl version --client -o json 2>/dev/null | grep -m1 gitVersion | tr -d ' ",' | cut -d: -f2), prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"
