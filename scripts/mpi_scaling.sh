#!/usr/bin/env bash
# Scaling of `gpusum --mpi` on one node: a long range on one thread per rank (--backend seq),
# one rank against two, interleaved, medians of the summing time each run reports (`seconds`,
# without mpiexec's start). Needs a build with `--features mpi`. Usage:
#   scripts/mpi_scaling.sh [BINARY] [END] [RUNS]
set -euo pipefail
binary=${1:-target/release/gpusum}
end=${2:-20000000000}
runs=${3:-7}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none

seconds() {
    mpiexec -n "$1" "$binary" --mpi --backend seq --json 1 "$end" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["seconds"])'
}

one=() two=()
for _ in $(seq "$runs"); do
    one+=("$(seconds 1)")
    two+=("$(seconds 2)")
done
python3 - "${one[*]}" "${two[*]}" <<'PY'
import statistics, sys
one, two = ([float(v) for v in arg.split()] for arg in sys.argv[1:])
a, b = statistics.median(one), statistics.median(two)
print(f"1..N on one rank: median {a:.3f} s; on two ranks: median {b:.3f} s; {a / b:.2f}x")
PY
