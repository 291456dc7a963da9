# shellcheck shell=bash
# Server start/stop library of the compat suites. Source it, then call:
#   start_server <zk|rzk> <name> [extra zoo.cfg lines...]  -> prints 127.0.0.1:<port>
#   stop_server <name>      SIGTERM, then SIGKILL after a grace period
#   kill_server <name>      SIGKILL (simulates a crash; dataDir is kept)
#   restart_server <name>   start again with the same zoo.cfg, port and dataDir
#   server_log <name>       path of the server's log file
#   server_log_tail <name> [lines]
#   stop_all_servers        stop every server this work dir knows of
# Environment (all optional):
#   COMPAT_WORK        work root (default compat-tests/work); servers live in
#                      $COMPAT_WORK/servers/<name>, logs in $COMPAT_WORK/logs/<name>.log
#   RZK_BIN            rzk binary (default $CARGO_TARGET_DIR or <repo>/target, then release/rzk)
#   SERVER_JAAS_USERS  users of the JAAS Server section
#                      (default: user_super="test" user_bob="bobsecret")
#   SERVER_START_TIMEOUT seconds to wait for `srvr` to answer (default 60)

COMPAT_TESTS_DIR="${COMPAT_TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
REPO_DIR="${REPO_DIR:-$(cd "$COMPAT_TESTS_DIR/.." && pwd)}"
COMPAT_WORK="${COMPAT_WORK:-$COMPAT_TESTS_DIR/work}"
RZK_BIN="${RZK_BIN:-${CARGO_TARGET_DIR:-$REPO_DIR/target}/release/rzk}"
SERVER_START_TIMEOUT="${SERVER_START_TIMEOUT:-60}"

# Classpath of the Debian ZooKeeper server and client, without jline so that
# ZooKeeperMain reads commands from a plain stdin.
zk_server_classpath() {
    local d=/usr/share/java j cp=""
    for j in zookeeper zookeeper-jute slf4j-api slf4j-log4j12 log4j-1.2 \
        netty-buffer netty-codec netty-common netty-handler netty-resolver \
        netty-transport netty-transport-native-epoll netty-transport-native-unix-common \
        commons-cli commons-io metrics-core snappy-java; do
        cp="$cp${cp:+:}$d/$j.jar"
    done
    printf '%s\n' "$cp"
}

# Server classpath plus the Curator jars and what they need.
compat_java_classpath() {
    local d=/usr/share/java j cp
    cp="$(zk_server_classpath)"
    for j in curator-client curator-framework curator-recipes curator-x-discovery \
        guava jackson-annotations jackson-core jackson-databind; do
        cp="$cp:$d/$j.jar"
    done
    printf '%s\n' "$cp"
}

# A free loopback TCP port, never 2181. Ports come from below the kernel's
# ephemeral range: there, a client socket (or one in TIME_WAIT) of the many
# the suites open could hold the port and make the server's bind fail.
free_port() {
    local port low=32768 span
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    span=$(( low - 20000 ))
    [ "$span" -ge 1000 ] || span=40000
    for _ in $(seq 1 200); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % span ))
        [ "$port" = 2181 ] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    echo "free_port: no free port found" >&2
    return 1
}

_srv_dir() { printf '%s/servers/%s\n' "$COMPAT_WORK" "$1"; }
server_log() { printf '%s/logs/%s.log\n' "$COMPAT_WORK" "$1"; }

server_log_tail() {
    local log
    log="$(server_log "$1")"
    if [ -f "$log" ]; then
        echo "----- last ${2:-40} lines of $log -----"
        tail -n "${2:-40}" "$log"
        echo "-----"
    else
        echo "(no log at $log)"
    fi
}

# Ask `srvr` once; true when the answer has a Mode: line.
server_answers() {
    local out
    out="$(printf 'srvr' | timeout 5 nc -q 2 127.0.0.1 "$1" 2>/dev/null)" || true
    [[ "$out" == *"Mode:"* ]]
}

_srv_alive() {
    local pid
    pid="$(cat "$(_srv_dir "$1")/pid" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

_write_server_config() {
    local dir="$1" port="$2"
    shift 2
    mkdir -p "$dir/data"
    {
        echo "tickTime=2000"
        echo "dataDir=$dir/data"
        echo "clientPort=$port"
        echo "clientPortAddress=127.0.0.1"
        echo "maxClientCnxns=0"
        echo "4lw.commands.whitelist=*"
        echo "extendedTypesEnabled=true"
        echo "admin.enableServer=false"
        echo "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        echo "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
        local line
        for line in "$@"; do echo "$line"; done
    } >"$dir/zoo.cfg"
    printf 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required %s;\n};\n' \
        "${SERVER_JAAS_USERS:-user_super=\"test\" user_bob=\"bobsecret\"}" >"$dir/jaas.conf"
    # Server logs go to the console appender, which the launcher sends to the log file.
    printf '%s\n' "log4j.rootLogger=INFO, CONSOLE" \
        "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender" \
        "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout" \
        "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n" \
        >"$dir/log4j.properties"
}

# Launch the process described by <dir> in the background, in a session of
# its own (so that a suite's timeout does not signal it), and record its pid.
# The process writes its own pid before it execs: setsid forks when it is
# a process group leader, so `$!` need not be the server.
_launch_server() {
    local name="$1" dir kind log jvmflags cmd
    local -a extra_flags=()
    dir="$(_srv_dir "$name")"
    kind="$(cat "$dir/kind")"
    log="$(server_log "$name")"
    mkdir -p "$(dirname "$log")"
    rm -f "$dir/pid"
    jvmflags="-Djava.security.auth.login.config=$dir/jaas.conf"
    # Extra system properties the suite asked for (see run.sh), kept for restarts.
    if [ -s "$dir/jvmflags" ]; then read -r -a extra_flags <"$dir/jvmflags"; fi
    echo "=== $(date -u +%FT%TZ) starting $kind server '$name' on port $(cat "$dir/port")" >>"$log"
    case "$kind" in
    zk)
        cmd=(java "$jvmflags" ${extra_flags[@]+"${extra_flags[@]}"} -Xmx512m -XX:+UseSerialGC
            -Dzookeeper.log.dir="$COMPAT_WORK/logs"
            -Dlog4j.configuration="file:$dir/log4j.properties"
            -cp "$(zk_server_classpath)"
            org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg")
        ;;
    rzk)
        if [ ! -x "$RZK_BIN" ]; then
            echo "start_server: rzk binary $RZK_BIN is missing or not executable" | tee -a "$log" >&2
            return 1
        fi
        cmd=("$RZK_BIN" "$dir/zoo.cfg")
        ;;
    *)
        echo "start_server: unknown kind '$kind' (want zk or rzk)" >&2
        return 1
        ;;
    esac
    # shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
    SERVER_JVMFLAGS="$jvmflags ${extra_flags[*]+${extra_flags[*]}}" setsid sh -c 'echo $$ >"$0"; exec "$@"' "$dir/pid" "${cmd[@]}" \
        </dev/null >>"$log" 2>&1 9>&- &
    local _
    for _ in $(seq 1 50); do
        [ -s "$dir/pid" ] && return 0
        sleep 0.1
    done
    echo "start_server: '$name' did not start (no pid after 5 s)" >&2
    return 1
}

# Wait until the server answers `srvr`, dies, or the timeout passes.
_await_server() {
    local name="$1" port deadline
    port="$(cat "$(_srv_dir "$name")/port")"
    deadline=$(( SECONDS + SERVER_START_TIMEOUT ))
    while (( SECONDS < deadline )); do
        if server_answers "$port"; then
            printf '127.0.0.1:%s\n' "$port"
            return 0
        fi
        if ! _srv_alive "$name"; then
            echo "start_server: server '$name' exited before answering srvr" >&2
            server_log_tail "$name" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "start_server: server '$name' did not answer srvr on port $port within ${SERVER_START_TIMEOUT}s" >&2
    server_log_tail "$name" >&2
    kill_server "$name"
    return 1
}

start_server() {
    local kind="$1" name="$2" dir port attempt
    shift 2 || { echo "usage: start_server <zk|rzk> <name> [zoo.cfg lines...]" >&2; return 2; }
    dir="$(_srv_dir "$name")"
    if _srv_alive "$name"; then
        echo "start_server: '$name' is already running; stopping it first" >&2
        stop_server "$name"
    fi
    # Another process may take the port between the check and the bind:
    # then try again on another port.
    for attempt in 1 2 3; do
        rm -rf "$dir"
        mkdir -p "$dir" "$COMPAT_WORK/logs"
        port="$(free_port)" || return 1
        echo "$kind" >"$dir/kind"
        echo "$port" >"$dir/port"
        : >"$(server_log "$name")"
        _write_server_config "$dir" "$port" "$@"
        printf '%s\n' "${SUITE_JVMFLAGS:-}" >"$dir/jvmflags"
        _launch_server "$name" || return 1
        if _await_server "$name"; then
            return 0
        fi
        grep -qiE 'address already in use|address in use|BindException' "$(server_log "$name")" || return 1
        echo "start_server: port $port was taken (attempt $attempt of 3)" >&2
    done
    return 1
}

restart_server() {
    local name="$1" dir
    dir="$(_srv_dir "$name")"
    [ -f "$dir/zoo.cfg" ] || { echo "restart_server: unknown server '$name'" >&2; return 1; }
    _srv_alive "$name" && stop_server "$name"
    _launch_server "$name" || return 1
    _await_server "$name"
}

_wait_gone() {
    local pid="$1" limit="$2"
    for _ in $(seq 1 $(( limit * 10 ))); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

stop_server() {
    local name="$1" dir pid
    dir="$(_srv_dir "$name")"
    pid="$(cat "$dir/pid" 2>/dev/null)" || return 0
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        if ! _wait_gone "$pid" 10; then
            kill -KILL "$pid" 2>/dev/null
            _wait_gone "$pid" 5
        fi
    fi
    rm -f "$dir/pid"
}

kill_server() {
    local name="$1" dir pid
    dir="$(_srv_dir "$name")"
    pid="$(cat "$dir/pid" 2>/dev/null)" || return 0
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null
        _wait_gone "$pid" 5
    fi
    rm -f "$dir/pid"
}

stop_all_servers() {
    local d
    for d in "$COMPAT_WORK"/servers/*/; do
        [ -f "$d/pid" ] && stop_server "$(basename "$d")"
    done
    return 0
}
