#!/usr/bin/env bash
# Builds the page into web/dist/: the wasm crate (web/app) for wasm32-unknown-unknown, its JS glue
# from wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock (installed
# with cargo when missing), and the HTML and JS beside them. Serve it with `gpusum web`.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -z "$version" ]; then
    echo "web/build.sh: no wasm-bindgen in Cargo.lock" >&2
    exit 1
fi
if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{ print $2 }')" != "$version" ]; then
    echo "web/build.sh: installing wasm-bindgen-cli $version (once)" >&2
    # A debug build: it installs in half the time (68 s against 135 s on two cores) and still
    # writes the page's glue in under a second.
    cargo install --quiet --debug wasm-bindgen-cli --version "$version"
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

# No debug lines in the page: they would triple its download.
CARGO_PROFILE_RELEASE_DEBUG=false cargo build --quiet --release --target wasm32-unknown-unknown -p gpusum-web
rm -rf web/dist
wasm-bindgen --target web --no-typescript --out-dir web/dist \
    target/wasm32-unknown-unknown/release/gpusum_web.wasm
cp web/index.html web/main.js web/arrays.mjs web/file.mjs web/dist/
echo "built web/dist: serve it with 'cargo run --release -- web'"
