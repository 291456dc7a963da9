# Compiles a Java suite (its own *.java plus java-common/*.java) against the Debian jars
# and runs it. Sourced by a suite's run.sh, then:
#   run_java_suite <name> <main class> <timeout s> <default classpath> [java options...]
# The classpath is $JAVA_CP when the runner gives one; only our quiet SLF4J binding stays
# on it (SUITE_LOG=1 shows client warnings). Ends with the suite's own exit status.
: "${ZK_CONNECT:?ZK_CONNECT must be host:port of the server under test}"
WORK=${WORK:-$(mktemp -d)}
J=/usr/share/java
COMMON=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

run_java_suite() {
  local name=$1 main=$2 limit=$3 cp=${JAVA_CP:-$4} logjar rc
  shift 4
  local suite_dir
  suite_dir=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
  # One SLF4J binding only, ours: drop any binding the given classpath brings.
  cp=$(tr ':' '\n' <<<"$cp" | grep -v -E '/slf4j-(log4j12|simple|nop|jdk14|jcl|reload4j)[^/]*\.jar$' | paste -sd: -)
  if [ -n "${SUITE_LOG:-}" ]; then logjar=$J/slf4j-simple.jar; else logjar=$J/slf4j-nop.jar; fi
  local classes=$WORK/$name-classes
  rm -rf "$classes" && mkdir -p "$classes"
  echo "$name: compiling against ${cp:0:80}..."
  if ! javac -nowarn -d "$classes" -cp "$cp" "$suite_dir"/*.java "$COMMON"/*.java 2>"$WORK/$name-javac.log"; then
    cat "$WORK/$name-javac.log"
    echo "FAIL ${name}_compile: javac failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "$name: checks against $ZK_CONNECT (target ${TARGET:-?})"
  timeout "$limit" java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn "$@" -cp "$classes:$cp:$logjar" "$main" "$ZK_CONNECT"
  rc=$?
  if [ $rc -eq 124 ]; then
    echo "FAIL ${name}_timeout: suite did not finish within $limit s"
    echo "0 passed, 1 failed"
  fi
  exit $rc
}
