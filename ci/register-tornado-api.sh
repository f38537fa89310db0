#!/usr/bin/env bash
# Registers the TornadoVM SDK's API jar in the local Maven repository under its real coordinates
# (io.github.beehive-lab:tornado-api), so the tornado profile resolves it like any dependency.
# Nothing of TornadoVM is part of this project: the jar comes from the SDK on this machine.
set -euo pipefail
sdk=${1:?usage: register-tornado-api.sh SDK_DIR}
jar=$(ls "$sdk"/share/java/tornado/tornado-api-*.jar 2>/dev/null | head -1 || true)
if [ -z "$jar" ]; then
  echo "register-tornado-api: no tornado-api jar under $sdk/share/java/tornado" >&2
  exit 1
fi
version=$(basename "$jar" .jar); version=${version#tornado-api-}
target="$HOME/.m2/repository/io/github/beehive-lab/tornado-api/$version/tornado-api-$version.jar"
if [ ! -f "$target" ] || ! cmp -s "$jar" "$target"; then
  mvn -q -B -ntp install:install-file -Dfile="$jar" -DgroupId=io.github.beehive-lab \
      -DartifactId=tornado-api -Dversion="$version" -Dpackaging=jar
fi
echo "register-tornado-api: io.github.beehive-lab:tornado-api:$version"
