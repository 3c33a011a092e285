#!/usr/bin/env bash
# The device check for a lent NVIDIA H200 (the `device` tool; see docs/BENCHMARKS.md): one call,
# everything saved under $OUT. Build here, carry the stripped binary and the Vulkan loader:
#
#   strip -o .dev/gpusum target/release/gpusum
#   device run: carry [".gl", ".dev"], command "bash scripts/h200.sh .dev/gpusum"
#
# Parts, most important first, each bounded by `timeout` so the call ends inside its limit:
#   1. the machine, the adapters and the selftest;
#   2. cold whole-process runs of auto and each forced backend, interleaved, medians: the
#      planner's hardware targets (a 2^35 range, a 2^20 range, a host-resident 1 GiB file),
#      without a profile and then with the one `gpusum bench --save-profile` measures there;
#   3. the array and float benches at 2^24..2^30 with GPU timestamps (issue 28).
set -u
gpusum=${1:?usage: scripts/h200.sh PATH/TO/gpusum [PARTS]}
parts=${2:-123}
out=${OUT:-/tmp/h200-out}
mkdir -p "$out"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
if ! "$gpusum" adapters 2>/dev/null | grep -qi nvidia; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
note() { echo "== $*" | tee -a "$out/log.txt"; }

# Microseconds one command takes, whole process, output discarded.
micros() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>>"$out/stderr.txt"
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}

# Cold runs of each command in turn, ROUNDS times interleaved; the median of each, in ms.
compare() {
    local rounds=$1 name=$2
    shift 2
    local -a commands=("$@") times
    local i r
    for ((r = 0; r < rounds; r++)); do
        for i in "${!commands[@]}"; do
            times[i]+="$(eval micros "${commands[i]}") "
        done
    done
    for i in "${!commands[@]}"; do
        local median
        median=$(tr ' ' '\n' <<<"${times[i]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]/1000}')
        printf '%-14s %10s ms  %s   [%s]\n' "$name" "$median" "${commands[i]}" "${times[i]}" | tee -a "$out/compare.txt"
    done
}

if [[ $parts == *1* ]]; then
    note "machine"
    {
        nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv
        nproc
        grep -m1 'model name' /proc/cpuinfo
        grep -o 'avx512f\|avx2' /proc/cpuinfo | sort | uniq -c
        free -g
    } >"$out/machine.txt" 2>&1
    cat "$out/machine.txt"
    timeout 30 "$gpusum" adapters >"$out/adapters.txt" 2>&1
    cat "$out/adapters.txt"
    note "selftest"
    timeout 120 "$gpusum" selftest --seed 1 >"$out/selftest.txt" 2>&1
    echo "selftest exit $?" | tee -a "$out/log.txt"
    tail -5 "$out/selftest.txt"
fi

if [[ $parts == *2* ]]; then
    note "files"
    python3 - <<'EOF'
import numpy as np
rng = np.random.default_rng(1)
np.save("/tmp/f64_1g.npy", rng.standard_normal(1 << 27))
np.save("/tmp/i64_1g.npy", rng.integers(-(1 << 62), 1 << 62, 1 << 27))
EOF
    ls -la /tmp/*.npy | tee -a "$out/log.txt"
    g=$gpusum
    note "verbose"
    for v in "" "--backend gpu" "--backend cpu"; do
        "$g" -v $v 1 34359738368 2>&1 | grep -v 'INFO  wgpu\|INFO  naga' | tee -a "$out/verbose.txt"
    done
    "$g" -v file /tmp/f64_1g.npy 2>&1 | grep -v 'INFO  wgpu\|INFO  naga' | tee -a "$out/verbose.txt"
    for profile in none "$out/profile.tsv"; do
        if [ "$profile" != none ]; then
            note "save profile"
            timeout 60 "$g" bench --save-profile "$profile" 2>&1 | tee -a "$out/log.txt"
        fi
        export GPUSUM_PROFILE=$profile
        note "cold runs, profile $profile"
        c() { timeout 90 bash -c "$(declare -f micros compare); out=$out; compare $*"; }
        c 7 "'1 20'" "'$g 1 20'" "'$g --backend seq 1 20'" "'$g --backend gpu 1 20'"
        c 7 "'2^20'" "'$g 1 1048576'" "'$g --backend cpu 1 1048576'" "'$g --backend gpu 1 1048576'"
        c 7 "'2^35'" "'$g 1 34359738368'" "'$g --backend cpu 1 34359738368'" "'$g --backend gpu 1 34359738368'"
        c 5 "'2^37'" "'$g 1 137438953472'" "'$g --backend cpu 1 137438953472'" "'$g --backend gpu 1 137438953472'"
        c 5 "'f64 1 GiB'" "'$g file /tmp/f64_1g.npy'" "'$g file --backend cpu /tmp/f64_1g.npy'" "'$g file --backend gpu /tmp/f64_1g.npy'"
        c 5 "'i64 1 GiB'" "'$g file /tmp/i64_1g.npy'" "'$g file --backend cpu /tmp/i64_1g.npy'" "'$g file --backend gpu /tmp/i64_1g.npy'"
    done
    unset GPUSUM_PROFILE
fi

if [[ $parts == *3* ]]; then
    for workload in float array; do
        note "bench $workload"
        timeout 150 "$gpusum" bench --workload "$workload" --backends cpu,gpu:vulkan \
            --sizes 2^24,2^26,2^28,2^30 --runs 10 --budget 60 --save "$out/bench-$workload.json" \
            >"$out/bench-$workload.txt" 2>&1
        echo "bench $workload exit $?" | tee -a "$out/log.txt"
        cat "$out/bench-$workload.txt"
    done
fi
note "done"
