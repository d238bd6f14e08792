#!/usr/bin/env bash
# Run a command inside a private network namespace that has no way out of this machine.
#
#   build/netns.sh [--no-veth] CMD [ARGS...]
#
# If the current namespace holds any interface other than lo/veth0/veth1 (i.e. it is the host's),
# the script touches nothing and re-executes itself under `unshare -n` (root here), so
# `build/netns.sh CMD` and `unshare -n build/netns.sh CMD` are equivalent. Running it again inside
# an already prepared namespace is a no-op apart from exec'ing CMD.
#
# Inside the namespace it:
#   * brings `lo` up (127.0.0.1, ::1);
#   * unless --no-veth / LKPW_NETNS_VETH=0: creates a veth pair whose BOTH ends stay inside this
#     namespace (veth0 10.77.0.1/24, veth1 10.77.0.2/24) and a default route over veth0. Native
#     libwebrtc (the official Python SDK) ignores loopback adapters and needs a non-loopback
#     interface plus a default route to gather any candidate; Chromium does too unless started with
#     --allow-loopback-in-peer-connection. Packets to any other address end on veth1 with
#     forwarding off (a fresh namespace starts with ip_forward=0) and are dropped: nothing leaves.
#   * execs CMD. Every process CMD starts (server, peers, browser) shares this namespace.
#
# Env: LKPW_NETNS_VETH=0 (same as --no-veth), LKPW_NETNS_QUIET=1 (no summary on stderr).
set -euo pipefail

SELF="$(readlink -f "${BASH_SOURCE[0]}")"
VETH="${LKPW_NETNS_VETH:-1}"
if [[ "${1:-}" == "--no-veth" ]]; then VETH=0; shift; fi
if [[ $# -eq 0 ]]; then
  echo "usage: $0 [--no-veth] CMD [ARGS...]" >&2
  exit 2
fi

# Interfaces other than the ones we create. A namespace is "ours" only if it has none: the check
# looks at the namespace itself (PID 1's namespace link is unreadable in some sandboxes, so comparing
# against /proc/1/ns/net is not reliable).
foreign_ifaces() {
  local links
  links="$(ip -o link show)" && grep -q ': lo:' <<<"$links" || { echo "?ip-link-failed"; return; }
  printf '%s\n' "$links" | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep -vxE 'lo|veth0|veth1' || true
}

if [[ -n "$(foreign_ifaces)" ]]; then
  # Shared namespace (it has eth0 & co.): move into a fresh one, never configure this one.
  if [[ -n "${LKPW_NETNS_REEXEC:-}" ]]; then
    echo "netns.sh: still see foreign interfaces after unshare -n: $(foreign_ifaces | tr '\n' ' ')" >&2
    exit 1
  fi
  export LKPW_NETNS_REEXEC=1
  [[ "$VETH" == 0 ]] && exec unshare -n "$SELF" --no-veth "$@"
  exec unshare -n "$SELF" "$@"
fi

ip link set lo up
if [[ "$VETH" != 0 ]]; then
  if ! ip link show veth0 >/dev/null 2>&1; then
    ip link add veth0 type veth peer name veth1
    ip addr add 10.77.0.1/24 dev veth0
    ip addr add 10.77.0.2/24 dev veth1
    ip link set veth0 up
    ip link set veth1 up
    ip route add default via 10.77.0.2 dev veth0
  fi
fi

if [[ "${LKPW_NETNS_QUIET:-0}" != 1 ]]; then
  echo "netns.sh: netns $(readlink /proc/self/ns/net), addrs: $(ip -o -4 addr show | awk '{print $2"="$4}' | tr '\n' ' ')" >&2
fi
unset LKPW_NETNS_REEXEC
exec "$@"
