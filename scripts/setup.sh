#!/usr/bin/env bash
# Prepares this machine for ovnts and builds the checkout. Run as root on
# Debian 12; idempotent; prints nothing unless a step fails.
#   - installs Open vSwitch (the datapath), Debian's OVN (test oracle and
#     benchmark peer) and the tools the tests use;
#   - installs the npm dependencies and builds dist/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(openvswitch-switch ovn-central ovn-host ovn-common iproute2 isc-dhcp-client
          iputils-ping iperf3 procps psmisc tcpdump)
# Installed without their recommends (nothing of those is used, and some would
# start services or pull in desktop packages):
# - the container tools (ovn-container, the CNI and Docker plugins) and their tests:
#   the runtimes, the busybox the network image is built from, nsenter, ethtool, curl;
# - the oracles of ovnts ipam: the real neutron-server (test/helpers/neutron-server.ts),
#   the real keystone (its passlib checks our hashes), and the openstack/neutron clients;
# - Go and Debian's libcni, for the cnitool the CNI plugin's tests build (RECIPES §4.6);
# - the Prometheus text parser the metrics tests read --metrics endpoints with.
# - a C compiler and libc for the CNI plugin's thin client (src/cni/client, built by npm run build).
# - chromium, the headless browser the `ovnts ui` page tests drive (puppeteer-core), and
#   a font for it (without one its screenshots show no text).
LEAN_PACKAGES=(chromium fonts-dejavu-core docker.io podman runc containernetworking-plugins busybox-static ethtool util-linux curl
               python3-keystone python3-openstackclient python3-neutronclient neutron-server
               golang-go golang-github-appc-cni-dev
               python3-prometheus-client gcc libc6-dev)

log=$(mktemp /tmp/ovnts-setup.XXXXXX)
policy_created=
cleanup() {
  rm -f "$log"
  if [[ -n $policy_created ]]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

# Runs a command with its output in $log; shows the output and fails if it fails.
quiet() {
  if ! "$@" >"$log" 2>&1; then
    echo "setup.sh: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

die() { echo "setup.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and the tests create network namespaces)"

# --- Debian packages.
not_installed() {
  local p
  for p in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || echo "$p"
  done
}
mapfile -t missing < <(not_installed "${PACKAGES[@]}")
mapfile -t missing_lean < <(not_installed "${LEAN_PACKAGES[@]}")
if ((${#missing[@]} + ${#missing_lean[@]} > 0)); then
  command -v apt-get >/dev/null || die "apt-get not found: this script expects Debian 12"
  # Without systemd the packages' init scripts could still start the default
  # daemons (on /var/run/openvswitch and /var/run/ovn); tests never use those,
  # so forbid service starts while installing (policy-rc.d exit 101).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_created=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  quiet apt-get update -q
  apt_install=(apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if ((${#missing[@]} > 0)); then quiet "${apt_install[@]}" "${missing[@]}"; fi
  if ((${#missing_lean[@]} > 0)); then quiet "${apt_install[@]}" --no-install-recommends "${missing_lean[@]}"; fi
  # If a service got started anyway, stop it so nothing holds the default sockets.
  if [[ -e /var/run/ovn/ovn-controller.pid || -e /var/run/ovn/ovn-northd.pid || -e /var/run/ovn/ovnnb_db.pid ]]; then
    quiet /usr/share/ovn/scripts/ovn-ctl stop_controller
    quiet /usr/share/ovn/scripts/ovn-ctl stop_northd
  fi
  if [[ -e /var/run/openvswitch/ovs-vswitchd.pid || -e /var/run/openvswitch/ovsdb-server.pid ]]; then
    quiet /usr/share/openvswitch/scripts/ovs-ctl stop
  fi
fi

# The userspace datapath (no openvswitch kernel module needed) makes its ports
# tap devices.
if [[ ! -c /dev/net/tun ]]; then
  mkdir -p /dev/net
  mknod /dev/net/tun c 10 200 2>/dev/null || die "/dev/net/tun is missing and cannot be created (the container needs it)"
  chmod 600 /dev/net/tun
fi

# --- Node and the build.
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm (Node.js >= 20) are required"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "Node.js >= 20 is required (found $(node --version))"

export npm_config_loglevel=error npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# puppeteer-core has no browser download; this keeps any puppeteer package from
# fetching one: the page tests drive Debian's /usr/bin/chromium.
export PUPPETEER_SKIP_DOWNLOAD=1
if [[ -f package-lock.json ]]; then
  # npm ci starts from scratch every time; skip it when node_modules already
  # matches this lock file.
  stamp=node_modules/.ovnts-setup-lock
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    quiet npm ci
    echo "$want" >"$stamp"
  fi
else
  quiet npm install
fi
quiet npm run build
