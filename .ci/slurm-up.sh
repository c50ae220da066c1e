#!/usr/bin/env bash
# A real Slurm cluster on this one machine, for CI: Debian's slurm-wlm + munge, two virtual nodes (n1, n2) on
# 127.0.0.1, no accounting database (status by squeue, hence MinJobAge). Everything lives under $PREFIX; nothing
# is written to /etc, so it coexists with a system Slurm.
#   usage: .ci/slurm-up.sh [up|stop]        then: source "$PREFIX/env.sh"
#   knobs: PREFIX (.slurm-ci)  NODES (2)  PORT_BASE (7817)  PARTITION (debug)
# Needs root (munged and slurmd run as root).
set -euo pipefail
ACTION=${1:-up}
PREFIX=$(realpath -m "${PREFIX:-.slurm-ci}")  # short: the munge socket path must fit in 108 bytes
NODES=${NODES:-2}
PORT_BASE=${PORT_BASE:-7817}
PARTITION=${PARTITION:-debug}
ETC=$PREFIX/etc LOG=$PREFIX/log RUN=$PREFIX/run MUNGE=$PREFIX/munge BIN=$PREFIX/bin
export SLURM_CONF=$ETC/slurm.conf

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop_pid() {
  if alive "$1"; then
    local pid; pid=$(cat "$1"); kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true  # slurmd ignores SIGTERM while it cannot register
  fi
  rm -f "$1"
}
nodes() { seq -f 'n%g' 1 "$NODES"; }

if [ "$ACTION" = stop ]; then
  for n in $(nodes); do stop_pid "$RUN/slurmd-$n.pid"; done
  stop_pid "$RUN/slurmctld.pid"; stop_pid "$MUNGE/munged.pid"
  exit 0
fi
[ "$ACTION" = up ] || { echo "usage: $0 [up|stop]" >&2; exit 2; }

missing=""; for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
mkdir -p "$ETC" "$LOG" "$RUN/state" "$RUN/spool" "$MUNGE" "$BIN"; chmod 711 "$MUNGE"

[ -s "$MUNGE/munge.key" ] || { head -c 1024 /dev/urandom > "$MUNGE/munge.key"; chmod 400 "$MUNGE/munge.key"; }
alive "$MUNGE/munged.pid" || /usr/sbin/munged --force --socket="$MUNGE/munge.sock" --key-file="$MUNGE/munge.key" \
  --log-file="$LOG/munged.log" --pid-file="$MUNGE/munged.pid" --seed-file="$MUNGE/munged.seed"

CPUS=$(nproc); MEM=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 / 2 / NODES ))
{
  cat <<EOF
ClusterName=ci
# addresses, never names: a machine without /etc/hosts would hang on resolving localhost
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT_BASE
SlurmdPort=$((PORT_BASE + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE/munge.sock
SlurmUser=root
SlurmdUser=root
MailProg=/bin/true
StateSaveLocation=$RUN/state
SlurmdSpoolDir=$RUN/spool/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without a default, each job takes the whole node's memory and jobs run one at a time
DefMemPerCPU=500
MpiDefault=none
ReturnToService=2
# the Snakemake plugin polls squeue without accounting; finished jobs must stay listed long enough
MinJobAge=600
KillWait=10
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
EOF
  for i in $(seq 1 "$NODES"); do
    echo "NodeName=n$i NodeHostname=localhost NodeAddr=127.0.0.1 Port=$((PORT_BASE + 10 + i)) CPUs=$CPUS RealMemory=$MEM State=UNKNOWN"
  done
  echo "PartitionName=$PARTITION Nodes=n[1-$NODES] Default=YES MaxTime=INFINITE State=UP"
} > "$SLURM_CONF.new"
if ! cmp -s "$SLURM_CONF.new" "$SLURM_CONF"; then
  for n in $(nodes); do stop_pid "$RUN/slurmd-$n.pid"; done; stop_pid "$RUN/slurmctld.pid"
  mv "$SLURM_CONF.new" "$SLURM_CONF"
else
  rm -f "$SLURM_CONF.new"
fi
alive "$RUN/slurmctld.pid" || /usr/sbin/slurmctld
for n in $(nodes); do alive "$RUN/slurmd-$n.pid" || /usr/sbin/slurmd -N "$n"; done

# The Slurm jobstep plugin strips SLURM_CONF before its inner srun; PATH survives, so wrappers carry it.
for c in srun sbatch squeue sacct scontrol sinfo scancel salloc; do
  printf '#!/bin/sh\nexport SLURM_CONF=%s\nexec /usr/bin/%s "$@"\n' "$SLURM_CONF" "$c" > "$BIN/$c"; chmod +x "$BIN/$c"
done
printf 'export SLURM_CONF=%s\nexport PATH=%s:$PATH\n' "$SLURM_CONF" "$BIN" > "$PREFIX/env.sh"

for _ in $(seq 120); do
  [ "$(timeout 5 sinfo -h -N -o %T 2>/dev/null | grep -cE '^(idle|mixed|allocated)')" -ge "$NODES" ] && { sinfo -N; exit 0; }
  sleep 0.25
done
echo "slurm-up: nodes not ready after 30 s" >&2; timeout 5 sinfo -N >&2 || true; tail -n 20 "$LOG"/slurm*.log >&2
exit 1
