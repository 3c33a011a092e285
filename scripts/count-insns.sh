#!/usr/bin/env bash
# Instructions a value costs in the exact float sums, lanes against bins, on AArch64 (or with
# ARCH=x86_64, on this machine's x86-64 under the same emulator), counted by QEMU: each block of
# code it translates, times the blocks it runs, for 1 and 3 sums of COUNT values; the difference
# over 2 sums. Not a time: an estimate of work where no such CPU is at hand (docs/BENCHMARKS.md,
# "thirteenth round").
#   apt-get install -y crossbuild-essential-arm64 qemu-user; rustup target add aarch64-unknown-linux-gnu
#   scripts/count-insns.sh [COUNT]          (GPUSUM_CPU_ISA picks the set on x86-64)
set -euo pipefail
count=${1:-131072}
arch=${ARCH:-aarch64}
target=$arch-unknown-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
cargo build -q --release --example float_insns --no-default-features --features tools --target "$target"
binary=target/$target/release/examples/float_insns
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
    if [ "$arch" = aarch64 ]; then
        qemu-aarch64 -L /usr/aarch64-linux-gnu -d in_asm,exec,nochain -D "$log" "$binary" "$@"
    else
        qemu-x86_64 -cpu max -d in_asm,exec,nochain -D "$log" "$binary" "$@"
    fi
    python3 - "$log" <<'PY'
import sys
size, total, block = {}, 0, None
for line in open(sys.argv[1]):
    if line.startswith("Trace"):
        total += size.get(int(line.split("/")[1], 16), 0)
    elif line.startswith("IN:"):
        block = None
    elif line.startswith("0x") and ":" in line:
        pc = int(line.split(":")[0], 16)
        if block is None:  # a block translated again starts its count again
            block, size[pc] = pc, 0
        size[block] += 1
print(total)
PY
}
for kind in f32 f64; do
    for path in lanes bins; do
        one=$(run "$count" 1 "$kind" "$path")
        three=$(run "$count" 3 "$kind" "$path")
        echo "$arch $kind $path: $(python3 -c "print(round(($three - $one) / 2 / $count, 2))") instructions a value"
    done
done
