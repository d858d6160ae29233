#!/usr/bin/env bash
# A one-node Slurm cluster on this host, for testing `snakemake --profile slurm`.
#
#   scripts/local_slurm.sh install           # as root on Debian 12: slurm-wlm + munge (~20 s)
#   scripts/local_slurm.sh start STATE_DIR   # munged, slurmctld, slurmd; waits for the node
#   scripts/local_slurm.sh stop STATE_DIR    # stops the three daemons by their recorded PIDs
#
# The cluster's state, logs and PIDs stay in STATE_DIR. Its slurm.conf goes to /etc/slurm, where
# every Slurm command (also srun inside a job) looks for it; `start` refuses to replace a
# slurm.conf that this script did not write, and `stop` removes its own. There is no slurmdbd:
# `sacct` fails here, so Snakemake's Slurm plugin must be told `--slurm-status-command squeue`
# (it would otherwise wait for ever).
set -euo pipefail

PARTITION=debug
CONF=/etc/slurm/slurm.conf
MARKER="# One-node test cluster written by scripts/local_slurm.sh."

usage() {
    sed -n '2,6p' "$0" >&2
    exit 2
}

install_packages() {
    if command -v slurmctld >/dev/null && command -v munged >/dev/null; then
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
}

write_conf() {
    local state=$1 node
    if [ -f "$CONF" ] && ! grep -qxF "$MARKER" "$CONF"; then
        echo "local_slurm.sh: $CONF exists and was not written by this script; not replacing it" >&2
        exit 1
    fi
    # slurmd -C prints this host's NodeName line (CPUs, sockets, cores, RealMemory).
    node=$(slurmd -C | head -n 1)
    mkdir -p "$(dirname "$CONF")"
    cat >"$CONF" <<EOF
$MARKER
ClusterName=graphattn-test
SlurmctldHost=$(hostname)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# Finished jobs stay visible to squeue for an hour: the plugin's squeue status check needs them.
MinJobAge=3600
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
$node State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    local state=$1
    mkdir -p "$state/ctld" "$state/spool" "$state/pids"
    state=$(cd "$state" && pwd)
    write_conf "$state"

    # munged runs as the munge user; setpriv execs it, so $! is munged's own PID.
    install -d -o munge -g munge -m 0755 /run/munge
    setpriv --reuid=munge --regid=munge --init-groups -- /usr/sbin/munged -F >"$state/munged.log" 2>&1 &
    echo $! >"$state/pids/munged"
    for _ in $(seq 50); do
        [ -S /run/munge/munge.socket.2 ] && break
        sleep 0.1
    done

    slurmctld -D -i >"$state/slurmctld.out" 2>&1 &
    echo $! >"$state/pids/slurmctld"
    slurmd -D >"$state/slurmd.out" 2>&1 &
    echo $! >"$state/pids/slurmd"

    for _ in $(seq 60); do
        if [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ]; then
            echo "partition=$PARTITION"
            return
        fi
        sleep 0.5
    done
    echo "local_slurm.sh: the node did not become idle within 30 s; see $state/*.log" >&2
    sinfo -N -l >&2 || true
    stop "$state"
    exit 1
}

stop() {
    local state=$1 name pid
    for name in slurmd slurmctld munged; do
        [ -f "$state/pids/$name" ] || continue
        pid=$(cat "$state/pids/$name")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$state/pids/$name"
    done
    if [ -f "$CONF" ] && grep -qxF "$MARKER" "$CONF"; then
        rm "$CONF"
    fi
}

case "${1:-}" in
install) install_packages ;;
start) [ $# -eq 2 ] || usage; start "$2" ;;
stop) [ $# -eq 2 ] || usage; stop "$2" ;;
*) usage ;;
esac
