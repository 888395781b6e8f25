#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the `localhost-slurm` computer of
# `aiida-boroglass setup --slurm` (docs/cluster.md). Idempotent: when the node already answers
# `sinfo` it only says so. Needs root and Debian's slurm-wlm and munge (scripts/environment.sh
# installs them). Works without systemd or cgroups: processes are tracked by
# proctrack/linuxproc, tasks are not confined, there is no accounting database; finished jobs
# are listed in $BOROGLASS_SLURM_DIR/log/jobcomp.log.
#
# BOROGLASS_SLURM_DIR (default /var/lib/boroglass-slurm) holds the state, spool and logs;
# the configuration is /etc/slurm/slurm.conf, where every Slurm command finds it.
set -euo pipefail

dir=${BOROGLASS_SLURM_DIR:-/var/lib/boroglass-slurm}
conf=/etc/slurm/slurm.conf
marker='# written by aiida-boroglass scripts/slurm.sh'

fail() { echo "slurm.sh: $*" >&2; exit 1; }

node_state() { sinfo --noheader --node "$node" --format %T 2>/dev/null | head -1; }

[ "$(id -u)" = 0 ] || fail "needs root (slurmd starts jobs as their users); run it as root or with sudo"
for program in munged slurmctld slurmd sinfo; do
    command -v "$program" >/dev/null || fail "$program not found: install slurm-wlm and munge (apt-get install slurm-wlm munge)"
done
node=$(hostname -s)

case "$(node_state)" in
    idle*|mixed*|allocated*|completing*) echo "slurm: node $node is $(node_state) (already running, $conf)"; exit 0 ;;
esac

# munge: the key made by the Debian package, or a new one; the daemon runs as user munge.
mkdir -p /run/munge && chown munge:munge /run/munge
[ -s /etc/munge/munge.key ] || { mungekey --create --force >/dev/null && chown munge:munge /etc/munge/munge.key; }
if ! munge -n >/dev/null 2>&1; then
    runuser -u munge -- munged || fail "munged did not start (see /var/log/munge/munged.log)"
    munge -n >/dev/null 2>&1 || fail "munge does not answer after munged started (see /var/log/munge/munged.log)"
fi

# slurm.conf: this machine's CPUs and memory as slurmd measures them (slurmd -C), one partition.
if [ -e "$conf" ] && ! grep -qxF "$marker" "$conf"; then
    fail "$conf exists and was not written by this script; leaving it alone (move it away to use this one)"
fi
mkdir -p "$dir/state" "$dir/spool" "$dir/log"
hardware=$(slurmd -C | head -1) || fail "slurmd -C could not measure this machine"
case "$hardware" in NodeName=*) ;; *) fail "slurmd -C gave no NodeName line: $hardware" ;; esac
cat > "$conf" <<EOF
$marker
ClusterName=boroglass
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
$hardware State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
running "$dir/slurmctld.pid" || slurmctld || fail "slurmctld did not start (see $dir/log/slurmctld.log)"
running "$dir/slurmd.pid" || slurmd || fail "slurmd did not start (see $dir/log/slurmd.log)"

for _ in $(seq 60); do
    state=$(node_state)
    case "$state" in
        idle*|mixed*|allocated*) echo "slurm: node $node is $state ($conf, logs in $dir/log)"; exit 0 ;;
        down*|drain*|fail*) scontrol update nodename="$node" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
done
fail "node $node is not idle after 60 s (state: ${state:-no answer from slurmctld}); see $dir/log/slurmctld.log and $dir/log/slurmd.log"
