#!/usr/bin/env bash
# The device-comparison benchmark in one command: every pass (reference, jvm, tornado on every device
# TornadoVM lists) at (256,512,10), (256,512,1000), (1024,512,10000), m in {1,4}, against the
# matrix-product ceiling of the same run. Prints a table and writes benchmarks/results/device-comparison.{csv,png}.
# Options go to the suite: --help, --iterations 5, --passes jvm,tornado@0:0, --shapes 256x512x1000, ...
set -euo pipefail
cd "$(dirname "$0")/.."
exec benchmarks/run.sh --compare "$@"
