#!/bin/sh
# A real strongSwan for the interop tests (tests/interop.rs): one charon on loopback that
# either initiates IKEv2 (or IKEv1 main mode) with a PSK to `ikesim serve` at
# $SIM_HOST:$SIM_PORT (a real CGW), or only listens for the simulated CGW of
# `ikesim connect` at $CGW_HOST (a real responder). Adapted from
# shared/interop/strongswan-peer.sh.
#
#   strongswan-peer.sh start          write config, start charon, load conn + PSK
#   strongswan-peer.sh respond        the same as a responder: charon listens on
#                                     $PEER_HOST:$PEER_PORT and accepts $CGW_HOST
#   strongswan-peer.sh initiate       initiate IKE_SA + CHILD_SA (exit code = swanctl's)
#   strongswan-peer.sh initiate-ike   initiate IKE_SA only (IKEv2: RFC 6023 childless)
#   strongswan-peer.sh list           swanctl --list-sas
#   strongswan-peer.sh rekey-child    rekey the CHILD_SA (CREATE_CHILD_SA)
#   strongswan-peer.sh rekey-ike      rekey the IKE_SA (CREATE_CHILD_SA)
#   strongswan-peer.sh terminate-child  delete the CHILD_SA alone (INFORMATIONAL/DELETE)
#   strongswan-peer.sh terminate      delete the IKE_SA (sends INFORMATIONAL/DELETE)
#   strongswan-peer.sh kill           SIGKILL charon: it vanishes without a word
#   strongswan-peer.sh stop           stop charon (by PID)
#   strongswan-peer.sh reap           SIGKILL a charon left behind in WORKDIR (by an
#                                     interrupted run), nothing else
#
# start/respond exit with 3 when charon could not bind PEER_PORT or PEER_NATT_PORT (it
# is stopped again): pick other ports and retry. charon binds them on every address.
#
# Variables: WORKDIR (one per charon), SIM_HOST, SIM_PORT (start), CGW_HOST (respond),
# PEER_HOST, PEER_PORT, PEER_NATT_PORT, IKE_VERSION, PSK, LOCAL_ID, REMOTE_ID,
# IKE_PROPOSALS, ESP_PROPOSALS, UNIQUE (the connection's uniqueness policy: no, never,
# keep, replace; strongSwan sends INITIAL_CONTACT unless it is never), LOGLEVEL,
# RETRANSMIT_TRIES, RETRANSMIT_TIMEOUT, RETRANSMIT_BASE (charon's retransmission; these
# tests default to 2 tries after 1 s, charon's own defaults are 5, 4.0 and 1.8),
# INITIATE_TIMEOUT (seconds swanctl --initiate waits, default 10), LOCAL_TS, REMOTE_TS
# (the CHILD SA's traffic selectors, default dynamic: the outside addresses),
# INSTALL_ROUTES (yes: charon routes REMOTE_TS into kernel-libipsec's TUN device, with a
# local address inside LOCAL_TS as the source; the traffic tests run it in a network
# namespace of their own, tests/interop/netns.rs). IKEv1
# connections are main mode (aggressive = no); an ESP proposal with a DH group means PFS.
# Each charon gets a private /run (mount namespace) so several can run at once: the pid
# file path is compiled in; ours is $WORKDIR/charon.pid. The script only ever signals the
# process that file names if it is a charon started with this WORKDIR's configuration
# (its comm is charon and its environment has STRONGSWAN_CONF=$WORKDIR/strongswan.conf),
# so a stale pid file never kills anything else. Needs root, /dev/net/tun and the
# packages strongswan-charon strongswan-swanctl libstrongswan-standard-plugins
# libcharon-extra-plugins (kernel-libipsec: userspace ESP, because these kernels have
# XFRM but no ESP). With kernel-libipsec strongSwan FAKES a NAT (forced UDP
# encapsulation) and floats its source port to PEER_NATT_PORT after IKE_SA_INIT.
set -eu
W=${WORKDIR:-/tmp/sspeer}
SIM_HOST=${SIM_HOST:-127.0.1.1}
SIM_PORT=${SIM_PORT:-}
CGW_HOST=${CGW_HOST:-127.0.2.1}               # respond: the simulated CGW's address
PEER_HOST=${PEER_HOST:-127.0.0.1}
PEER_PORT=${PEER_PORT:-14500}                 # strongSwan's own IKE port
PEER_NATT_PORT=${PEER_NATT_PORT:-$((PEER_PORT+1))}
IKE_VERSION=${IKE_VERSION:-2}
PSK=${PSK:-TestPSK123456}
LOCAL_ID=${LOCAL_ID:-$PEER_HOST}              # AWS's generated configs use the IPs
if [ "${1:-}" = respond ]; then
  REMOTE_ID=${REMOTE_ID:-$CGW_HOST}
else
  REMOTE_ID=${REMOTE_ID:-$SIM_HOST}
fi
IKE_PROPOSALS=${IKE_PROPOSALS:-aes128-sha256-modp2048}
ESP_PROPOSALS=${ESP_PROPOSALS:-aes128-sha256-modp2048}
UNIQUE=${UNIQUE:-no}                          # strongSwan's default
LOGLEVEL=${LOGLEVEL:-2}
RETRANSMIT_TRIES=${RETRANSMIT_TRIES:-2}
RETRANSMIT_TIMEOUT=${RETRANSMIT_TIMEOUT:-1.0}
RETRANSMIT_BASE=${RETRANSMIT_BASE:-1.8}
INITIATE_TIMEOUT=${INITIATE_TIMEOUT:-10}
INSTALL_ROUTES=${INSTALL_ROUTES:-no}          # yes: routes to REMOTE_TS via libipsec's TUN
LOCAL_TS=${LOCAL_TS:-dynamic}                 # the CHILD SA's traffic selectors
REMOTE_TS=${REMOTE_TS:-dynamic}
URI="unix://$W/charon.vici"
export STRONGSWAN_CONF="$W/strongswan.conf"

write_config() {
  mkdir -p "$W"
  cat >"$W/strongswan.conf" <<EOC
charon {
  port = $PEER_PORT
  port_nat_t = $PEER_NATT_PORT
  install_routes = $INSTALL_ROUTES
  install_virtual_ip = no
  retransmit_tries = $RETRANSMIT_TRIES
  retransmit_timeout = $RETRANSMIT_TIMEOUT
  retransmit_base = $RETRANSMIT_BASE
  load = random nonce openssl aes sha1 sha2 md5 hmac gmp pem pkcs1 x509 pubkey kdf kernel-libipsec kernel-netlink socket-default vici updown
  plugins {
    kernel-libipsec { allow_peer_ts = yes }
    vici { socket = $URI }
  }
  filelog {
    log {
      path = $W/charon.log
      time_format = %H:%M:%S
      ike_name = yes
      append = no
      default = 1
      ike = $LOGLEVEL
      cfg = 1
      net = $LOGLEVEL
      enc = 1
      flush_line = yes
    }
  }
  syslog { }
}
# swanctl reads this too (STRONGSWAN_CONF is exported at the top)
swanctl {
  load = pem pkcs1 x509 pubkey openssl random nonce
}
EOC
  if [ "$1" = respond ]; then
    # A responder: no remote_port (the CGW's source port is whatever it is).
    REMOTE="remote_addrs = $CGW_HOST"
  else
    REMOTE="remote_addrs = $SIM_HOST
    remote_port = $SIM_PORT"
  fi
  cat >"$W/swanctl.conf" <<EOC
connections {
  sim {
    version = $IKE_VERSION
    aggressive = no
    local_addrs = $PEER_HOST
    $REMOTE
    mobike = no
    send_certreq = no
    unique = $UNIQUE
    proposals = $IKE_PROPOSALS
    local { auth = psk
            id = $LOCAL_ID }
    remote { auth = psk
             id = $REMOTE_ID }
    children {
      sim-child {
        esp_proposals = $ESP_PROPOSALS
        local_ts = $LOCAL_TS
        remote_ts = $REMOTE_TS
        mode = tunnel
      }
    }
  }
}
secrets {
  ike-sim {
    id-1 = $LOCAL_ID
    id-2 = $REMOTE_ID
    secret = "$PSK"
  }
}
EOC
}

# The pid in charon.pid if it is our charon (see the header), else nothing.
our_charon() {
  P=$(cat "$W/charon.pid" 2>/dev/null) || return 1
  [ -n "$P" ] && [ "$(cat "/proc/$P/comm" 2>/dev/null)" = charon ] || return 1
  { tr '\0' '\n' <"/proc/$P/environ"; } 2>/dev/null | grep -qxF "STRONGSWAN_CONF=$W/strongswan.conf" || return 1
  echo "$P"
}

# Waits (up to 5 s) until our charon is gone; a zombie is gone (its environment reads
# empty), and so are its sockets.
wait_gone() {
  i=0; while our_charon >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
}

# SIGKILL our charon (if it runs) and wait until it is gone.
kill_charon() {
  if P=$(our_charon); then
    kill -9 "$P" 2>/dev/null || true
    wait_gone
  fi
  rm -f "$W/charon.pid"
}

case "${1:-}" in
  start|respond)
    if [ "$1" = start ] && [ -z "$SIM_PORT" ]; then
      echo "set SIM_PORT to the simulator UDP port" >&2; exit 2
    fi
    # A charon still running in this WORKDIR (an earlier start) goes first.
    kill_charon
    write_config "$1"
    rm -f "$W/charon.vici" "$W/charon.log"
    if command -v unshare >/dev/null 2>&1; then
      # unshare execs sh, which execs charon: $! is charon's PID.
      unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' \
        >"$W/charon.stdout" 2>&1 </dev/null &
    else
      /usr/lib/ipsec/charon >"$W/charon.stdout" 2>&1 </dev/null &
    fi
    echo $! >"$W/charon.pid"
    i=0
    until swanctl --version --daemon --uri "$URI" >/dev/null 2>&1; do
      kill -0 "$(cat "$W/charon.pid")" 2>/dev/null && [ $i -lt 100 ] || {
        echo "charon failed to start" >&2; cat "$W/charon.stdout" "$W/charon.log" >&2 || true
        kill_charon; exit 1; }
      sleep 0.1; i=$((i+1))
    done
    # Without one of its ports charon runs on regardless ("unable to bind socket"): the
    # caller picks other ports.
    if grep -q "unable to bind socket" "$W/charon.log" 2>/dev/null; then
      grep -A1 "unable to bind socket" "$W/charon.log" >&2 || true
      kill_charon
      exit 3
    fi
    swanctl --load-all --noprompt --uri "$URI" --file "$W/swanctl.conf" >"$W/load.log" 2>&1 || {
      echo "swanctl --load-all failed" >&2; cat "$W/load.log" >&2; exit 1; }
    ;;
  initiate)     swanctl --initiate --ike sim --child sim-child --timeout "$INITIATE_TIMEOUT" --uri "$URI" ;;
  initiate-ike) swanctl --initiate --ike sim --timeout 10 --uri "$URI" ;;
  list)         swanctl --list-sas --uri "$URI" ;;
  rekey-child)  swanctl --rekey --child sim-child --uri "$URI" ;;
  terminate-child) swanctl --terminate --child sim-child --timeout 10 --uri "$URI" ;;
  rekey-ike)    swanctl --rekey --ike sim --uri "$URI" ;;
  terminate)    swanctl --terminate --ike sim --timeout 10 --uri "$URI" ;;
  kill)         kill_charon ;;
  reap)         kill_charon ;;
  stop)
    if P=$(our_charon); then
      kill "$P" 2>/dev/null || true
      wait_gone
    fi
    kill_charon
    ;;
  *) sed -n '2,40p' "$0"; exit 2 ;;
esac
