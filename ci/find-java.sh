#!/usr/bin/env bash
# Prints the home of a JDK >= 21 (TornadoVM and the project need it); the newest one wins.
# Order: $JAVA_HOME if it is >= 21, then every JDK under /usr/lib/jvm, then `java` on the PATH.
# Sourced by ci/test.sh and bin/lsoftmax; exits non-zero with a message when there is none.
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
