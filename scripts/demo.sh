#!/usr/bin/env bash
# Sets up, builds, and converts the bundled sample image mix3/hello:latest (a busybox
# httpd that serves "hello" on port 5000), then prints the ACI path and its manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
mkdir -p build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOCKER2ACI_TESTS=OFF > build/configure.log 2>&1 ||
  { cat build/configure.log; echo "demo.sh: configuring failed"; exit 1; }
echo "building docker2aci (build/)"
cmake --build build --target docker2aci > build/build-output.log 2>&1 ||
  { tail -40 build/build-output.log; echo "demo.sh: building failed"; exit 1; }
mkdir -p out
python3 testdata/make_sample.py hello out/hello.tar
echo "+ docker2aci --output-dir out out/hello.tar"
./build/docker2aci --output-dir out out/hello.tar
echo
echo "Manifest of out/mix3-hello-latest-linux-amd64.aci:"
tar -xOzf out/mix3-hello-latest-linux-amd64.aci manifest | jq .
