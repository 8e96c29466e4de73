#!/bin/sh
# Ensures the Debian packages the integration tests need (real QEMU guests under TCG and a real
# libvirtd) are installed. Idempotent: when everything is present it only asks dpkg (well under a
# second) and prints one line. Otherwise, as root, it runs `apt-get update` and installs what is
# missing, non-interactively (CI runs it as root with CI=true and no stdin). Not root and something
# missing: exits 1 naming the packages and the command to run.
set -eu

# Packages installed with their recommended packages: QEMU, the guest kernel, the initramfs tools,
# the C toolchain that builds the guest workload (test/integration/guest/memload.c, gcc -static),
# curl, the real client of the control API's tests (test/integration/api.test.ts), and python3,
# whose xmlrpc.client is the real client of the XML-RPC tests (test/integration/xmlrpc.test.ts),
# openssl, which makes the throwaway certificate of the API's TLS test, and qemu-guest-agent,
# the real agent of the GuestQemuAgent collector's tests (test/integration/guest-agent.test.ts).
PACKAGES='qemu-system-x86 qemu-utils busybox-static linux-image-amd64 cpio gcc libc6-dev curl python3 openssl qemu-guest-agent'
# libvirt without its recommends (no dnsmasq, no firewall, no polkit...).
LIBVIRT_PACKAGES='libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu'
# Prometheus, for its `promtool check metrics` on momd's /metrics; without its recommends (no
# node exporter). Its own service is not needed: the tests run promtool only.
PROMETHEUS_PACKAGES='prometheus'
# Chromium, the real browser of the dashboard's test (test/integration/dashboard.test.ts, driven by
# playwright-core; no browser is downloaded), without its recommends.
BROWSER_PACKAGES='chromium'

missing_of() {
  missing=''
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    case "$status" in
      ii*) ;;
      *) missing="$missing $pkg" ;;
    esac
  done
  echo "${missing# }"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "ensure-system-packages: dpkg-query not found; this script supports Debian/Ubuntu only" >&2
  exit 1
fi

# shellcheck disable=SC2086 # word splitting of the package lists is intended
missing_main=$(missing_of $PACKAGES)
# shellcheck disable=SC2086
missing_libvirt=$(missing_of $LIBVIRT_PACKAGES)
# shellcheck disable=SC2086
missing_prometheus=$(missing_of $PROMETHEUS_PACKAGES)
# shellcheck disable=SC2086
missing_browser=$(missing_of $BROWSER_PACKAGES)
all_missing=$(echo "$missing_main $missing_libvirt $missing_prometheus $missing_browser" | sed 's/^ *//; s/ *$//')

if [ -z "$all_missing" ]; then
  echo "ensure-system-packages: all present ($PACKAGES $LIBVIRT_PACKAGES $PROMETHEUS_PACKAGES $BROWSER_PACKAGES)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-system-packages: missing packages: $all_missing; run this script as root (e.g. sudo sh scripts/ensure-system-packages.sh) to install them" >&2
  # A developer without root still gets the other tests (the real-guest ones say why they skip);
  # in CI a missing package is a failure.
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS='-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold'
log=$(mktemp /tmp/ensure-system-packages.XXXXXX.log)
run() {
  if ! "$@" >>"$log" 2>&1 </dev/null; then
    echo "ensure-system-packages: '$*' failed; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
}
run apt-get update -q
# shellcheck disable=SC2086
[ -z "$missing_main" ] || run apt-get install $APT_OPTS $missing_main
# shellcheck disable=SC2086
[ -z "$missing_libvirt" ] || run apt-get install $APT_OPTS --no-install-recommends $missing_libvirt
# shellcheck disable=SC2086
[ -z "$missing_prometheus" ] || run apt-get install $APT_OPTS --no-install-recommends $missing_prometheus
# shellcheck disable=SC2086
[ -z "$missing_browser" ] || run apt-get install $APT_OPTS --no-install-recommends $missing_browser

# shellcheck disable=SC2086
still_missing=$(echo "$(missing_of $PACKAGES) $(missing_of $LIBVIRT_PACKAGES) $(missing_of $PROMETHEUS_PACKAGES) $(missing_of $BROWSER_PACKAGES)" | sed 's/^ *//; s/ *$//')
if [ -n "$still_missing" ]; then
  echo "ensure-system-packages: still missing after apt-get install: $still_missing (log: $log)" >&2
  exit 1
fi
rm -f "$log"
echo "ensure-system-packages: installed $all_missing"
