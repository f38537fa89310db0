# Source this file (bash): `source tornado-config/tornado-env.sh [SDK_DIR]`.
# Sets JAVA_HOME to a JDK >= 21 (the newest found; TornadoVM 5.2.0-jdk25 needs 25), TORNADOVM_HOME and
# TORNADO_SDK to the SDK (argument, $TORNADO_SDK, or /opt/tornadovm), and puts both bin folders on PATH.
_lsoftmax_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$_lsoftmax_root/ci/common.sh"
JAVA_HOME=$(find_java_home) && export JAVA_HOME
if [ -n "${1:-}" ]; then TORNADO_SDK=$1; fi
TORNADO_SDK=$(find_tornado_sdk)
if [ -z "$TORNADO_SDK" ]; then
  echo "tornado-env: no TornadoVM SDK (pass its folder, set TORNADO_SDK, or install it at /opt/tornadovm)" >&2
else
  export TORNADO_SDK TORNADOVM_HOME=$TORNADO_SDK
  export PATH="$TORNADOVM_HOME/bin:$JAVA_HOME/bin:$PATH"
  echo "tornado-env: JAVA_HOME=$JAVA_HOME TORNADOVM_HOME=$TORNADOVM_HOME"
fi
unset _lsoftmax_root
