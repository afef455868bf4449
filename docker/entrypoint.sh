#!/bin/sh
# The box image's entrypoint: the box (which supervises opencode) and `cloudflared tunnel run`, side by side.
# When either one exits, the other is stopped and this exits non-zero, so the machine restarts as a whole.
# SIGTERM, SIGINT or SIGHUP: both get SIGTERM, then SIGKILL after OCWEB_STOP_TIMEOUT seconds.
#
#   TUNNEL_TOKEN         the Cloudflare Tunnel's token; required unless OCWEB_NO_TUNNEL=1 (a local run)
#   OCWEB_USER           started as root, both run as this user (default ocweb); `root` keeps root
#   OCWEB_DATA           the volume; created and handed to OCWEB_USER before anything starts
#   OCWEB_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL when stopping (default 10)
set -u

log() { printf 'entrypoint: %s\n' "$*" >&2; }

app=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
stop_timeout=${OCWEB_STOP_TIMEOUT:-10}
run_as=${OCWEB_USER:-ocweb}
with_tunnel=1
[ "${OCWEB_NO_TUNNEL:-0}" = 1 ] && with_tunnel=0

case $stop_timeout in
  '' | *[!0-9]*) log "OCWEB_STOP_TIMEOUT must be a whole number of seconds, not '$stop_timeout'"; exit 78 ;;
esac
if [ "$with_tunnel" = 1 ] && [ -z "${TUNNEL_TOKEN:-}" ]; then
  log "TUNNEL_TOKEN is not set. It is your Cloudflare Tunnel's token (README, Deploy: the tunnel step);"
  log "on Fly: fly secrets set TUNNEL_TOKEN=<token>. To run without a tunnel (local use), set OCWEB_NO_TUNNEL=1."
  exit 78
fi

# The Fly volume is mounted root-owned at boot, so ownership is fixed here and then root is given up.
drop=""
if [ "$(id -u)" = 0 ] && [ "$run_as" != root ]; then
  if ! uid=$(id -u "$run_as" 2>/dev/null); then
    log "OCWEB_USER=$run_as: no such user"
    exit 78
  fi
  gid=$(id -g "$run_as")
  drop="setpriv --reuid=$uid --regid=$gid --init-groups --"
  HOME=$(getent passwd "$run_as" | cut -d: -f6)
  export HOME
  if [ -n "${OCWEB_DATA:-}" ]; then
    mkdir -p "$OCWEB_DATA" || exit 1
    if [ "$(stat -c %u "$OCWEB_DATA")" != "$uid" ]; then
      log "handing $OCWEB_DATA to $run_as"
      chown -R "$uid:$gid" "$OCWEB_DATA" || exit 1
    fi
  fi
fi

stopping=""
trap 'stopping=TERM' TERM
trap 'stopping=INT' INT
trap 'stopping=HUP' HUP

# The box gets the whole environment but the tunnel's token.
(
  unset TUNNEL_TOKEN
  # Small heap, baseline-compiled WebAssembly (undici's parser), no V8 helper threads: ~76 MB idle instead of ~88.
  exec $drop node --max-semi-space-size=1 --liftoff-only --single-threaded "$app/dist/box.mjs"
) &
box_pid=$!
tunnel_pid=""
if [ "$with_tunnel" = 1 ]; then
  # cloudflared gets only its token: no BOX_TOKEN, GITHUB_TOKEN or model keys.
  env -i PATH="$PATH" HOME="${HOME:-/}" TUNNEL_TOKEN="$TUNNEL_TOKEN" \
    $drop cloudflared tunnel --no-autoupdate run &
  tunnel_pid=$!
fi
log "started box (pid $box_pid)${tunnel_pid:+ and cloudflared (pid $tunnel_pid)}"

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Waiting on a short background sleep keeps traps prompt; the shell reaps exited children meanwhile.
first=""
while [ -z "$stopping" ]; do
  if ! alive "$box_pid"; then first=box; break; fi
  if [ "$with_tunnel" = 1 ] && ! alive "$tunnel_pid"; then first=cloudflared; break; fi
  sleep 1 &
  nap=$!
  wait "$nap"
  kill "$nap" 2>/dev/null
done

first_status=0
case $first in
  box) wait "$box_pid"; first_status=$?; log "the box exited (status $first_status)" ;;
  cloudflared) wait "$tunnel_pid"; first_status=$?; log "cloudflared exited (status $first_status)" ;;
  *) log "got SIG$stopping: stopping" ;;
esac

for pid in $box_pid $tunnel_pid; do
  alive "$pid" && kill -TERM "$pid" 2>/dev/null
done
ticks=0
while [ "$ticks" -lt $((stop_timeout * 10)) ] && { alive "$box_pid" || alive "$tunnel_pid"; }; do
  sleep 0.1
  ticks=$((ticks + 1))
done
killed=0
for pid in $box_pid $tunnel_pid; do
  if alive "$pid"; then
    log "pid $pid did not stop within ${stop_timeout}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    killed=1
  fi
done
wait

if [ -n "$first" ]; then
  [ "$first_status" -ne 0 ] && exit "$first_status"
  exit 1
fi
exit "$killed"
