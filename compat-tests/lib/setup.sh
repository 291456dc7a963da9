# shellcheck shell=bash
# Installs what the compat suites need: Debian packages and a Python venv with
# pinned PyPI packages. Sourced by run.sh.
#   ensure_debian_packages [suite...]  base packages plus each suite's
#                                      `apt-packages` file (one name a line)
#   ensure_venv [suite...]             $COMPAT_WORK/venv from Debian's python3,
#                                      each suite's `requirements.txt`, all
#                                      pinned by compat-tests/constraints.txt

BASE_DEBIAN_PACKAGES=(
    default-jre-headless zookeeper zookeeper-bin libzookeeper-java
    libcurator-framework-java libcurator-recipes-java libcurator-discovery-java
    libcurator-client-java netcat-openbsd python3 python3-venv python3-dev gcc
    coreutils procps
)
# Debian's interpreter, not whatever python3 comes first on PATH: its venv
# module and headers come from the packages above.
SYSTEM_PYTHON=/usr/bin/python3
VENV="$COMPAT_WORK/venv"

_suite_file_lines() { # _suite_file_lines <file name> suite...
    local name="$1" s
    shift
    for s in "$@"; do
        [ -f "$COMPAT_TESTS_DIR/$s/$name" ] && grep -vE '^\s*(#|$)' "$COMPAT_TESTS_DIR/$s/$name"
    done
    return 0
}

_missing_debian_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

ensure_debian_packages() {
    local wanted missing
    mapfile -t wanted < <(printf '%s\n' "${BASE_DEBIAN_PACKAGES[@]}"; _suite_file_lines apt-packages "$@")
    mapfile -t missing < <(_missing_debian_packages "${wanted[@]}" | sort -u)
    if [ ${#missing[@]} -eq 0 ]; then
        echo "setup: Debian packages present"
        return 0
    fi
    echo "setup: installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$COMPAT_WORK/logs/apt.log" 2>&1 ||
        ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >>"$COMPAT_WORK/logs/apt.log" 2>&1; then
        tail -n 20 "$COMPAT_WORK/logs/apt.log"
        return 1
    fi
}

ensure_venv() {
    local reqs stamp want
    reqs="$(_suite_file_lines requirements.txt "$@" | sort -u)"
    stamp="$VENV/.compat-stamp"
    want="$(printf '%s\n%s\n' "$reqs" "$(cat "$COMPAT_TESTS_DIR/constraints.txt")" | sha256sum | cut -c1-16)"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        echo "setup: venv up to date ($VENV)"
        return 0
    fi
    echo "setup: making the venv $VENV"
    local log="$COMPAT_WORK/logs/pip.log"
    [ -x "$VENV/bin/python" ] || "$SYSTEM_PYTHON" -m venv "$VENV" >"$log" 2>&1 || { cat "$log"; return 1; }
    if [ -n "$reqs" ]; then
        printf '%s\n' "$reqs" >"$VENV/requirements.txt"
        "$VENV/bin/pip" install -q --disable-pip-version-check \
            -c "$COMPAT_TESTS_DIR/constraints.txt" -r "$VENV/requirements.txt" >>"$log" 2>&1 ||
            { tail -n 30 "$log"; return 1; }
    fi
    echo "$want" >"$stamp"
}
