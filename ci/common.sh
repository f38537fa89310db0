# Shared by every script of the project (source it from bash): the one place that finds a JDK, finds
# a TornadoVM SDK, registers the SDK's API jar with Maven, writes the argfile the JVM is started with,
# and keeps the JVM's incubator-module notice off stderr.

# Prints the home of a JDK >= 21 (TornadoVM and the project need it); the newest one wins.
# Order: $JAVA_HOME if it is >= 21, then every JDK under /usr/lib/jvm and /opt/java, then `java` on the PATH.
java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -1 | cut -d. -f1
}
find_java_home() {
  local best="" best_major=0 candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(java_major "$candidate")
    [ -n "$major" ] || continue
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best="$candidate"; best_major="$major"
    fi
  done
  if [ -z "$best" ]; then
    echo "error: no JDK >= 21 found (looked at JAVA_HOME, /usr/lib/jvm, /opt/java and the PATH); install one, e.g. apt-get install openjdk-21-jdk" >&2
    return 1
  fi
  echo "$best"
}

# TornadoVM SDK: $TORNADO_SDK if set, else the conventional /opt/tornadovm. Prints nothing when absent.
find_tornado_sdk() {
  local candidate
  for candidate in "${TORNADO_SDK:-}" /opt/tornadovm; do
    if [ -n "$candidate" ] && [ -f "$candidate/tornado-argfile" ]; then
      echo "$candidate"; return 0
    fi
  done
  return 0
}

# Installs the SDK's API jar into the local Maven repository under its real coordinates
# (io.github.beehive-lab:tornado-api), so that the tornado profile resolves it like any dependency.
# Maven itself decides where (settings.xml, or -Dmaven.repo.local in MAVEN_OPTS), so a clone
# built with another local repository finds it too. Nothing of TornadoVM is part of the project.
register_tornado_api() {
  local sdk=$1 jar version
  jar=$(ls "$sdk"/share/java/tornado/tornado-api-*.jar 2>/dev/null | head -1 || true)
  if [ -z "$jar" ]; then
    echo "error: no tornado-api jar under $sdk/share/java/tornado" >&2
    return 1
  fi
  version=$(basename "$jar" .jar); version=${version#tornado-api-}
  mvn -q -B -ntp install:install-file -Dfile="$jar" -DgroupId=io.github.beehive-lab \
      -DartifactId=tornado-api -Dversion="$version" -Dpackaging=jar >&2
  echo "io.github.beehive-lab:tornado-api:$version"
}

# Writes to $2 a copy of the SDK's argfile whose module path no longer starts with `.`: the SDK's
# file puts the current directory on the module path, so any jar where the user stands would become a
# module. Rewritten only when missing or older than the SDK's.
write_tornado_argfile() {
  local sdk=$1 out=$2
  mkdir -p "$(dirname "$out")"
  if [ ! -f "$out" ] || [ "$sdk/tornado-argfile" -nt "$out" ]; then
    # through a temporary file: the ranks of an MPI job start together and must never read a half-written one
    sed -e 's#^--module-path \.:#--module-path #' "$sdk/tornado-argfile" > "$out.$$.tmp" && mv -f "$out.$$.tmp" "$out"
  fi
}

# Filter for stderr: drops the JVM's first line when it is the notice that an incubator module is in
# use (jdk.incubator.vector; JDK 21-25 print it unconditionally), then passes everything through
# byte for byte (progress bars redraw with \r).
drop_incubator_notice() {
  local first
  if IFS= read -r first; then
    case $first in
      "WARNING: Using incubator modules"*) ;;
      *) printf '%s\n' "$first" ;;
    esac
  fi
  exec cat
}

# Open MPI for the MPI collective's tests (src/test/mpi start `mpirun -np 2`): installs Debian's
# openmpi-bin and libopenmpi-dev when mpirun is missing and this is root with apt-get; otherwise says
# why the MPI tests will be reported skipped. Never fails the build.
ensure_open_mpi() {
  if command -v mpirun >/dev/null 2>&1; then
    echo "Open MPI: $(mpirun --version 2>/dev/null | head -1)"
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Open MPI: mpirun missing, installing openmpi-bin libopenmpi-dev (apt-get) ..."
    if DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q openmpi-bin libopenmpi-dev >/tmp/lsoftmax-apt-openmpi.log 2>&1 \
        || { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >>/tmp/lsoftmax-apt-openmpi.log 2>&1 \
             && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q openmpi-bin libopenmpi-dev >>/tmp/lsoftmax-apt-openmpi.log 2>&1; }; then
      echo "Open MPI: $(mpirun --version 2>/dev/null | head -1)"
      return 0
    fi
    echo "Open MPI: the install failed (log: /tmp/lsoftmax-apt-openmpi.log); the MPI tests are reported skipped"
    return 0
  fi
  echo "Open MPI: not installed and this is not root with apt-get; the MPI tests are reported skipped (apt-get install openmpi-bin libopenmpi-dev)"
}
