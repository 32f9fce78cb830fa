#!/usr/bin/env bash
# local-cluster.sh -- a throw-away, single-node Slurm cluster on localhost.
#
# WHAT IT IS
#   A helper for CI and for tests on ONE machine, run as ROOT. It brings up a
#   real Slurm cluster (munged + slurmctld + slurmd) whose every file -- munge
#   key and socket, slurm.conf, state, spool, pid and log files -- lives in a
#   single STATE_DIR, so it does not touch /etc/slurm, /etc/munge or
#   /run/munge and needs no systemd (works in containers). All daemons run as
#   root. It is NOT meant for production or for multi-node clusters.
#
# USAGE
#   deploy/slurm/local-cluster.sh install
#       apt-get install slurm-wlm and munge (Debian/Ubuntu). Skipped when
#       sbatch, slurmctld, slurmd and munged are already on PATH.
#   eval "$(deploy/slurm/local-cluster.sh start /tmp/slurm-ci)"
#       Creates STATE_DIR, a fresh munge key and slurm.conf, starts the three
#       daemons, records their pids in STATE_DIR/pids and waits until the node
#       is idle. Progress goes to stderr; stdout carries exactly one line,
#           export SLURM_CONF=STATE_DIR/slurm.conf
#       so the caller can eval it. sbatch/squeue/sinfo/scontrol/scancel then
#       talk to this cluster (and jobs inherit SLURM_CONF, so they can too).
#   deploy/slurm/local-cluster.sh status /tmp/slurm-ci
#       sinfo + squeue for that cluster.
#   deploy/slurm/local-cluster.sh stop /tmp/slurm-ci
#       Cancels this cluster's jobs, then sends TERM (then KILL after a grace
#       period) to exactly the pids in STATE_DIR/pids. Nothing else is killed.
#       STATE_DIR (logs, job output written there) is left in place.
#
# ENVIRONMENT (optional)
#   SLURM_CI_SLURMCTLD_PORT  slurmctld port (default 6817; if unset and 6817
#                            is taken, the next free port is used)
#   SLURM_CI_SLURMD_PORT     slurmd port (default 6818; same rule)
#   SLURM_CI_START_TIMEOUT   seconds to wait for the node to become idle (60)
#   SLURM_CI_MEM_MARGIN_MB   MB of RAM kept back from RealMemory (default:
#                            10% of MemTotal, at least 256)
#
# NOTES
#   * Tested with Debian 12 (Slurm 22.05.8, MUNGE 0.5.15).
#   * proctrack/linuxproc + task/none: no cgroups are used or required.
#   * No accounting (accounting_storage/none): sacct does not work; use
#     squeue / scontrol show job (finished jobs stay visible MinJobAge=300 s).
#   * The STATE_DIR path must be short (< ~100 chars): the munge socket lives
#     there and Unix socket paths are limited to 108 bytes.

set -euo pipefail

PROG=$(basename "$0")

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $PROG install
       $PROG start  STATE_DIR
       $PROG stop   STATE_DIR
       $PROG status STATE_DIR
EOF
  exit 2
}

# Daemons live in /usr/sbin, which is not always on a non-root-ish PATH.
export PATH="$PATH:/usr/sbin:/sbin:/usr/bin:/bin"

need_root() {
  [[ $(id -u) -eq 0 ]] || die "must be run as root (daemons run as root with SlurmUser=root)"
}

abs_dir() {
  local d=${1:-}
  [[ -n $d ]] || usage
  realpath -m -- "$d"
}

# ---------------------------------------------------------------- install ---
cmd_install() {
  local missing=()
  local b
  for b in sbatch slurmctld slurmd munged; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "slurm and munge already installed ($(slurmctld -V 2>&1), $(munged -V 2>&1 | head -n1))"
    return 0
  fi
  need_root
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get not found; install Slurm and MUNGE by hand"
  export DEBIAN_FRONTEND=noninteractive
  log "installing slurm-wlm munge (missing: ${missing[*]})"
  if ! apt-get install -y -q -o Dpkg::Use-Pty=0 slurm-wlm munge >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update -q >&2
    apt-get install -y -q -o Dpkg::Use-Pty=0 slurm-wlm munge >&2
  fi
  for b in sbatch slurmctld slurmd munged; do
    command -v "$b" >/dev/null 2>&1 || die "$b still not on PATH after install"
  done
  log "installed $(slurmctld -V 2>&1), $(munged -V 2>&1 | head -n1)"
}

# ------------------------------------------------------------------ start ---
port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# pick_port ENV_VALUE DEFAULT NAME [AVOID]
pick_port() {
  local forced=$1 port=$2 name=$3 avoid=${4:-}
  if [[ -n $forced ]]; then
    [[ $forced =~ ^[0-9]+$ ]] || die "$name port '$forced' is not a number"
    port_in_use "$forced" && die "$name port $forced (from environment) is already in use"
    echo "$forced"
    return
  fi
  local tries=0
  while port_in_use "$port" || [[ $port == "$avoid" ]]; do
    port=$((port + 2))
    tries=$((tries + 1))
    ((tries < 200)) || die "no free port found for $name"
  done
  echo "$port"
}

# pid_alive PID
pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# fail_daemon NAME LOGFILE...
fail_daemon() {
  local name=$1; shift
  printf '%s: error: %s failed to start\n' "$PROG" "$name" >&2
  local f
  for f in "$@"; do
    if [[ -s $f ]]; then
      printf -- '----- last 40 lines of %s -----\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
  printf -- '-----\n' >&2
  # Do not leave half a cluster behind.
  if [[ -n ${STATE_DIR:-} && -f $STATE_DIR/pids ]]; then
    kill_recorded "$STATE_DIR" || true
  fi
  exit 1
}

# record_pid STATE_DIR NAME PID
record_pid() { printf '%s %s\n' "$2" "$3" >>"$1/pids"; }

cmd_start() {
  need_root
  STATE_DIR=$(abs_dir "${1:-}")
  local S=$STATE_DIR
  for b in slurmctld slurmd munged sinfo scontrol; do
    command -v "$b" >/dev/null 2>&1 || die "$b not found; run '$PROG install' first"
  done

  if [[ -f $S/pids ]]; then
    local name pid alive=()
    while read -r name pid; do
      pid_alive "$pid" && alive+=("$name=$pid")
    done <"$S/pids"
    if [[ ${#alive[@]} -gt 0 ]]; then
      die "a cluster from $S seems to be running (${alive[*]}); run '$PROG stop $S' first"
    fi
    rm -f "$S/pids"
  fi

  local sock=$S/munge.socket
  ((${#sock} < 100)) || die "STATE_DIR too long for a Unix socket path: $sock"

  local t0=$SECONDS
  # munged insists that every directory up to its socket be world-executable
  # and not writable by group/other (sticky dirs such as /tmp are fine).
  mkdir -p "$S" "$S/state" "$S/spool"
  chmod 0755 "$S" "$S/state" "$S/spool"
  rm -f "$S"/munge.socket "$S"/munge.socket.lock "$S"/*.pid
  : >"$S/pids"

  local host
  host=$(hostname -s 2>/dev/null || hostname)
  host=${host%%.*}
  [[ -n $host ]] || die "cannot determine the short hostname"

  local ctld_port slurmd_port
  ctld_port=$(pick_port "${SLURM_CI_SLURMCTLD_PORT:-}" 6817 slurmctld)
  slurmd_port=$(pick_port "${SLURM_CI_SLURMD_PORT:-}" 6818 slurmd "$ctld_port")
  [[ $ctld_port != "$slurmd_port" ]] || die "slurmctld and slurmd ports must differ ($ctld_port)"

  local cpus mem_total_mb margin real_mem
  cpus=$(nproc)
  mem_total_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
  margin=${SLURM_CI_MEM_MARGIN_MB:-$(( mem_total_mb / 10 ))}
  ((margin >= 256)) || margin=256
  real_mem=$(( mem_total_mb - margin ))
  ((real_mem >= 100)) || real_mem=100

  # ---- munge key (owned by root, which is who munged runs as) ----
  local key=$S/munge.key
  rm -f "$key"
  if command -v mungekey >/dev/null 2>&1; then
    mungekey --create --force --keyfile="$key" >&2
  else
    dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
  fi
  chown root:root "$key"
  chmod 0400 "$key"

  # ---- slurm.conf ----
  local conf=$S/slurm.conf
  cat >"$conf" <<EOF
# Generated by $PROG on $(date -u +%FT%TZ). Single-node CI cluster; do not edit.
ClusterName=fimprune-ci
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${sock}
StateSaveLocation=${S}/state
SlurmdSpoolDir=${S}/spool
SlurmctldPidFile=${S}/slurmctld.pid
SlurmdPidFile=${S}/slurmd.pid
SlurmctldLogFile=${S}/slurmctld.log
SlurmdLogFile=${S}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# Trust this file's node description rather than the probed hardware, so a
# CPU topology / memory mismatch never drains the only node.
SlurmdParameters=config_overrides
# Schedule batch jobs on the next 1 s tick instead of batching them for up to
# 3 s (the default); cuts submit-to-start latency from ~3 s to ~1 s.
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${real_mem} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 0644 "$conf"
  export SLURM_CONF=$conf

  log "state dir $S; node $host CPUs=$cpus RealMemory=${real_mem}MB; ports ctld=$ctld_port slurmd=$slurmd_port"

  # ---- munged ----
  local mlog=$S/munged.log
  : >"$mlog"
  # Foreground (-F) + '&' so $! is the daemon's own pid; setsid detaches it
  # from the caller's session/terminal so it outlives this script.
  setsid munged --foreground --key-file="$key" --socket="$sock" \
    --pid-file="$S/munged.pid" --seed-file="$S/munged.seed" \
    --log-file="$mlog" </dev/null >>"$mlog" 2>&1 &
  local munged_pid=$!
  record_pid "$S" munged "$munged_pid"
  local i
  for ((i = 0; i < 100; i++)); do
    pid_alive "$munged_pid" || fail_daemon munged "$mlog"
    [[ -S $sock ]] && break
    sleep 0.1
  done
  [[ -S $sock ]] || fail_daemon "munged (no socket $sock after 10 s)" "$mlog"
  if command -v munge >/dev/null 2>&1 && command -v unmunge >/dev/null 2>&1; then
    munge -n -S "$sock" | unmunge -S "$sock" >/dev/null 2>&1 ||
      fail_daemon "munged (munge/unmunge round trip failed)" "$mlog"
  fi

  # ---- slurmctld ----
  local clog=$S/slurmctld.log cout=$S/slurmctld.out
  : >"$cout"
  # -D: foreground; -i: ignore errors in old state files; -c would also do.
  setsid slurmctld -D -i -f "$conf" </dev/null >>"$cout" 2>&1 &
  local ctld_pid=$!
  record_pid "$S" slurmctld "$ctld_pid"
  local ok=0
  for ((i = 0; i < 150; i++)); do
    pid_alive "$ctld_pid" || fail_daemon slurmctld "$clog" "$cout"
    if scontrol ping 2>/dev/null | grep -q 'is UP'; then ok=1; break; fi
    sleep 0.2
  done
  ((ok)) || fail_daemon "slurmctld (not answering 'scontrol ping' after 30 s)" "$clog" "$cout"

  # ---- slurmd ----
  local dlog=$S/slurmd.log dout=$S/slurmd.out
  : >"$dout"
  setsid slurmd -D -f "$conf" -N "$host" </dev/null >>"$dout" 2>&1 &
  local slurmd_pid=$!
  record_pid "$S" slurmd "$slurmd_pid"

  # ---- wait for the node to be idle ----
  local timeout=${SLURM_CI_START_TIMEOUT:-60} state="" resumed=0
  local deadline=$((SECONDS + timeout))
  while :; do
    pid_alive "$slurmd_pid" || fail_daemon slurmd "$dlog" "$dout"
    pid_alive "$ctld_pid" || fail_daemon slurmctld "$clog" "$cout"
    state=$(sinfo -h -N -n "$host" -o '%T' 2>/dev/null | head -n1 || true)
    case $state in
      idle | mixed | allocated) break ;;
      down* | drain* | fail* | inval*)
        if ((resumed < 3)); then
          log "node $host is '$state'; resuming it"
          scontrol update nodename="$host" state=resume >&2 || true
          resumed=$((resumed + 1))
        fi
        ;;
    esac
    if ((SECONDS >= deadline)); then
      log "node $host did not become idle within ${timeout}s (state: '${state:-unknown}')"
      scontrol show node "$host" >&2 || true
      fail_daemon "slurm node" "$clog" "$dlog" "$dout"
    fi
    sleep 0.5
  done

  log "cluster up in $((SECONDS - t0))s: node $host is $state (munged=$munged_pid slurmctld=$ctld_pid slurmd=$slurmd_pid)"
  echo "export SLURM_CONF=$conf"
}

# ------------------------------------------------------------------- stop ---
# kill_recorded STATE_DIR: TERM, wait, KILL exactly the pids in STATE_DIR/pids.
kill_recorded() {
  local S=$1 pidfile=$1/pids
  [[ -f $pidfile ]] || return 0
  local names=() pids=() name pid
  while read -r name pid; do
    [[ $pid =~ ^[0-9]+$ ]] || continue
    names+=("$name"); pids+=("$pid")
  done <"$pidfile"
  # Stop in reverse start order: slurmd, slurmctld, munged.
  local i j
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    pid_alive "$pid" || continue
    log "stopping ${names[i]} (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((j = 0; j < 100; j++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      log "${names[i]} (pid $pid) ignored TERM for 10 s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((j = 0; j < 50; j++)); do
        pid_alive "$pid" || break
        sleep 0.1
      done
    fi
    pid_alive "$pid" && log "warning: pid $pid is still alive"
  done
  rm -f "$pidfile"
}

cmd_stop() {
  need_root
  local S
  S=$(abs_dir "${1:-}")
  if [[ ! -f $S/pids ]]; then
    log "no $S/pids; nothing to stop"
    return 0
  fi
  # Cancel this cluster's jobs first so slurmd can reap their slurmstepd
  # processes before it goes away (only possible while slurmctld is up).
  if [[ -f $S/slurm.conf ]] && SLURM_CONF=$S/slurm.conf timeout 10 scontrol ping >/dev/null 2>&1; then
    local jobs
    jobs=$(SLURM_CONF=$S/slurm.conf squeue -h -o '%A' 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [[ -n ${jobs// /} ]]; then
      log "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      SLURM_CONF=$S/slurm.conf timeout 10 scancel $jobs >&2 || true
      local k
      for ((k = 0; k < 30; k++)); do
        [[ -z $(SLURM_CONF=$S/slurm.conf squeue -h -o '%A' -t running,completing 2>/dev/null || true) ]] && break
        sleep 0.5
      done
    fi
  fi
  kill_recorded "$S"
  rm -f "$S"/munge.socket "$S"/munge.socket.lock
  log "stopped (state and logs kept in $S)"
}

# ----------------------------------------------------------------- status ---
cmd_status() {
  local S
  S=$(abs_dir "${1:-}")
  [[ -f $S/slurm.conf ]] || die "no $S/slurm.conf; was '$PROG start $S' run?"
  export SLURM_CONF=$S/slurm.conf
  if [[ -f $S/pids ]]; then
    local name pid
    while read -r name pid; do
      if pid_alive "$pid"; then echo "$name: running (pid $pid)"; else echo "$name: NOT running (pid $pid)"; fi
    done <"$S/pids"
  else
    echo "no $S/pids (cluster stopped)"
  fi
  sinfo
  squeue
}

# ------------------------------------------------------------------- main ---
[[ $# -ge 1 ]] || usage
cmd=$1; shift
case $cmd in
  install) cmd_install "$@" ;;
  start) [[ $# -eq 1 ]] || usage; cmd_start "$1" ;;
  stop) [[ $# -eq 1 ]] || usage; cmd_stop "$1" ;;
  status) [[ $# -eq 1 ]] || usage; cmd_status "$1" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
