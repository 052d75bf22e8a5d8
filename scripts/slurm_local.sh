#!/usr/bin/env bash
# A private single-node Slurm cluster on this machine, for trying scripts/dse_slurm.sh and for the
# `slurm` ctest (docs/dse.md). Everything lives in DIR: a munge key and daemon on its own socket, a
# slurm.conf with its own ports and state, slurmctld and slurmd. Nothing under /etc is touched.
#   scripts/slurm_local.sh start DIR    prints `export SLURM_CONF=DIR/slurm.conf`; exits 77 when Slurm
#                                       cannot start here (packages missing, not root), saying why
#   scripts/slurm_local.sh stop DIR
# Needs Debian's slurm-wlm and munge (scripts/setup.sh installs them) and root (slurmd runs jobs as any user).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

skip() { echo "slurm_local: cannot start Slurm here: $*" >&2; exit 77; }

stop() {
  for p in slurmd slurmctld munged; do
    if [[ -f "$dir/$p.pid" ]]; then kill "$(cat "$dir/$p.pid")" 2>/dev/null || true; fi
  done
  sleep 1
  for p in slurmd slurmctld munged; do
    if [[ -f "$dir/$p.pid" ]]; then kill -9 "$(cat "$dir/$p.pid")" 2>/dev/null || true; rm -f "$dir/$p.pid"; fi
  done
}

if [[ "$cmd" == stop ]]; then
  stop
  exit 0
fi
[[ "$cmd" == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for b in munged mungekey slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null || [[ -x /usr/sbin/$b ]] || skip "$b not found (apt-get install slurm-wlm munge)"
done
[[ $(id -u) == 0 ]] || skip "slurmd must run as root to start jobs"
export PATH=$PATH:/usr/sbin

# Ports derived from the directory, so two clusters (two test runs) do not collide.
base=$((20000 + $(printf '%s' "$dir" | cksum | cut -d' ' -f1) % 20000))
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir"

# munge: its own key and socket (munged insists on private directories).
[[ -f "$dir/munge.key" ]] || mungekey --create --keyfile="$dir/munge.key" 2>/dev/null ||
  dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
chmod 600 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" --pid-file="$dir/munged.pid" \
  --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed" || skip "munged did not start ($dir/log/munged.log)"

cat >"$dir/slurm.conf" <<EOF
ClusterName=vta-local
SlurmctldHost=$host
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" -i || { stop; skip "slurmctld did not start ($dir/log/slurmctld.log)"; }
slurmd -f "$SLURM_CONF" -N "$host" || { stop; skip "slurmd did not start ($dir/log/slurmd.log)"; }
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  if [[ "$state" == idle* || "$state" == mixed* ]]; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 1
done
tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
stop
skip "the node did not become idle within 60 s (state: ${state:-none})"
