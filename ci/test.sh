#!/usr/bin/env bash
# The project's test command (README "Tests"; .ci/run calls exactly this).
# Picks a JDK >= 21 itself, installs Open MPI when it is missing (root with apt-get; its tests
# start `mpirun -np 2`), runs the Maven build with every test, and, when a TornadoVM SDK is on
# the machine ($TORNADO_SDK or /opt/tornadovm), also compiles the TornadoVM pass and runs its tests
# under the SDK's JVM flags; then fuzzes every parser for a bounded time (ci/fuzz.sh); then, with an
# SDK, checks the device kit end to end (tornado-config/check-device-kit.sh: assemble, run
# `run.sh --quick` with no Java or SDK reachable; ~4 min).
# Extra arguments go to Maven (e.g. -Dtest=ReferencePassTest) and skip the fuzzing and the kit check.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/common.sh
JAVA_HOME=$(find_java_home)
export JAVA_HOME
echo "ci/test.sh: JDK $JAVA_HOME"
maven_args=(-B -ntp verify)
ensure_open_mpi | sed 's/^/ci\/test.sh: /'
sdk=$(find_tornado_sdk)
if [ -n "$sdk" ]; then
  echo "ci/test.sh: TornadoVM SDK at $sdk: the tornado pass is built and its tests run"
  echo "ci/test.sh: registered $(register_tornado_api "$sdk")"
  maven_args+=(-Ptornado "-Dtornado.sdk=$sdk")
else
  echo "ci/test.sh: no TornadoVM SDK (TORNADO_SDK unset, /opt/tornadovm absent): tornado tests are skipped"
fi
mvn "${maven_args[@]}" "$@"
# Bounded fuzzing of the parsers (tens of seconds per target); LSOFTMAX_SKIP_FUZZ=1 skips it.
if [ "${LSOFTMAX_SKIP_FUZZ:-0}" != 1 ] && [ $# -eq 0 ]; then
  ci/fuzz.sh
fi
# The device kit (what the GPU machine runs), checked on this machine's OpenCL device;
# LSOFTMAX_SKIP_DEVICE_KIT=1 skips it.
if [ -n "$sdk" ] && [ "${LSOFTMAX_SKIP_DEVICE_KIT:-0}" != 1 ] && [ $# -eq 0 ]; then
  tornado-config/check-device-kit.sh
fi
