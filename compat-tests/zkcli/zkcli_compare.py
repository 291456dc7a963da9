"""Runs script.zk through zkCli against two servers and compares the outputs.

Each block of the script is one zkCli process per server; the two processes of
a block run side by side, their merged stdout/stderr is normalized (what may
legitimately differ between two servers: session ids, times, ports, the order
in which the event thread's lines interleave) and must be identical. Every
block is one check.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys
import threading
import time

CLI_MAIN = "org.apache.zookeeper.ZooKeeperMain"
QUIET_SECONDS = 0.5
BLOCK_TIMEOUT = 30
# After this many blocks in a row time out, the rest fail without running.
MAX_TIMEOUTS_IN_A_ROW = 2


def parse_script(path):
    """Returns [(title, [command lines])]."""
    blocks = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("=== "):
                blocks.append((line[4:].strip(), []))
            elif blocks and line.strip() and not line.startswith("#"):
                blocks[-1][1].append(line)
    return blocks


# A bare `printwatches` prints "printwatches is on|off" without asking the
# server: fed after every command, its line marks where that command's output
# ends, so that outputs are compared command by command.
MARKER_COMMAND = "printwatches"
MARKER = re.compile(r"^printwatches is (on|off)$")
PREAMBLE = re.compile(r"^(Connecting to |Welcome to ZooKeeper!|JLine support is )")


def with_markers(commands):
    out = []
    for c in commands:
        out.append(c + "\n")
        if c.strip() != MARKER_COMMAND:
            out.append(MARKER_COMMAND + "\n")
    return out


class CliRun:
    """One zkCli process fed one block; collects its merged output."""

    def __init__(self, java_cp, log4j, server, commands):
        self.lines = []
        self.last_output = time.monotonic()
        self.welcomed = False
        cmd = ["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dlog4j.configuration=file:" + log4j,
               "-cp", java_cp, CLI_MAIN, "-server", server]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.commands = [c.replace("$SERVER", server) for c in commands]

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self.last_output = time.monotonic()
            if line.startswith("Welcome to ZooKeeper!"):
                self.welcomed = True

    def _write(self, text):
        try:
            self.proc.stdin.write(text)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def feed(self):
        self._write("".join(with_markers(self.commands)))

    def settled(self):
        quiet = time.monotonic() - self.last_output >= QUIET_SECONDS
        return self.proc.poll() is not None or (self.welcomed and quiet)

    def finish(self, deadline):
        self._write("quit\n")
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = "timeout"
        self.reader.join(5)
        return code


def run_block_pair(java_cp, log4j, servers, commands):
    """Runs one block against every server at once; returns [(lines, exit)]."""
    runs = [CliRun(java_cp, log4j, s, commands) for s in servers]
    for r in runs:
        r.feed()
    deadline = time.monotonic() + BLOCK_TIMEOUT
    while time.monotonic() < deadline and not all(r.settled() for r in runs):
        time.sleep(0.05)
    return [(r.lines, r.finish(deadline)) for r in runs]


SUBSTITUTIONS = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"localhost:\d+"), "localhost:PORT"),
    (re.compile(r"^([cm]time) = .*$"), r"\1 = TIME"),
    (re.compile(r"^(ZooKeeper CLI version:) .*$"), r"\1 VERSION"),
    # Session ids as ephemeral owners; 0x0, containers (0x80...) and TTL
    # nodes (0xff...) carry meaning and stay.
    (re.compile(r"^ephemeralOwner = 0x(?!0$)(?!80)(?!ff)[0-9a-f]+$"),
     "ephemeralOwner = SESSION"),
    (re.compile(r"(sessionid|session id|session)[ :=]+0x[0-9a-f]+", re.I), r"\1 SESSION"),
]

DROPPED = [
    re.compile(r"^$"),
    re.compile(r"^WATCHER::$"),
    # The close at the end of a block races the process exit.
    re.compile(r"^WatchedEvent state:Closed "),
    re.compile(r"^(SLF4J|log4j):"),
    re.compile(r"^Picked up (JAVA_TOOL_OPTIONS|_JAVA_OPTIONS)"),
]


def normalize_line(line):
    for pattern, repl in SUBSTITUTIONS:
        line = pattern.sub(repl, line)
    return line


def split_output(lines):
    """(preamble, outputs between markers, sorted events) of one run."""
    preamble, chunks, events = [], [[]], []
    for raw in lines:
        line = raw.rstrip()
        if any(p.search(line) for p in DROPPED):
            continue
        line = normalize_line(line)
        # The event thread prints while the main thread goes on; events are
        # compared as a sorted list so that interleaving does not matter.
        if line.startswith("WatchedEvent "):
            events.append(line)
        elif PREAMBLE.search(line) and len(chunks) == 1 and not chunks[0]:
            preamble.append(line)
        elif MARKER.match(line):
            chunks[-1].append(line)
            chunks.append([])
        else:
            chunks[-1].append(line)
    return preamble, chunks, sorted(events)


def normalize(commands, lines, code):
    """[(section title, [lines])] of one block's run: the preamble, each
    command with its output, the events and the exit status."""
    preamble, chunks, events = split_output(lines)
    sections = [("(start)", preamble)]
    for i, command in enumerate(commands):
        if i >= len(chunks) or (i == len(chunks) - 1 and not chunks[i]):
            sections.append(("> " + command, ["(no output and no end marker)"]))
            continue
        out = chunks[i]
        if command.strip() != MARKER_COMMAND and out and MARKER.match(out[-1]):
            out = out[:-1]
        sections.append(("> " + command, out))
    leftover = [line for chunk in chunks[len(commands):] for line in chunk]
    if leftover:
        sections.append(("(after the last command)", leftover))
    sections.append(("-- events:", events))
    sections.append(("-- exit: %s" % code, []))
    return sections


def render(sections):
    out = []
    for title, lines in sections:
        if title != "(start)":
            out.append(title)
        out.extend(lines)
    return "\n".join(out) + "\n"


def recorded_blocks(path):
    """The committed transcript as {title: its block, header included}."""
    if not path or not os.path.exists(path):
        return {}
    blocks, title = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("=== "):
                title = line[4:].rstrip("\n")
                blocks[title] = ""
            if title is not None:
                blocks[title] += line
    return blocks


def print_differences(target, oracle):
    """Names each command whose output differs and shows the diff."""
    for (title, o_lines), (_, t_lines) in zip(oracle, target):
        if o_lines == t_lines:
            continue
        print("        differs at: %s" % (title if title != "(start)" else "session start"))
        for d in difflib.unified_diff(o_lines, t_lines, "oracle (Apache ZooKeeper)",
                                      "server under test", lineterm="", n=3):
            print("          " + d)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--target", required=True, help="host:port of the server under test")
    ap.add_argument("--oracle", required=True, help="host:port of Apache ZooKeeper")
    ap.add_argument("--java-cp", required=True)
    ap.add_argument("--log4j", required=True)
    ap.add_argument("--out", required=True, help="directory for the normalized transcripts")
    ap.add_argument("--expected", help="committed transcript; a difference from the oracle is reported")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    recorded = recorded_blocks(args.expected)
    passed = failed = 0
    transcripts = {"target": [], "oracle": []}
    timeouts_in_a_row = 0
    for title, commands in parse_script(args.script):
        if timeouts_in_a_row >= MAX_TIMEOUTS_IN_A_ROW:
            # Neither transcript is complete any more.
            failed += 1
            print("  FAIL  %-62s (not run: the servers stopped answering)" % title)
            continue
        started = time.monotonic()
        (t_lines, t_code), (o_lines, o_code) = run_block_pair(
            args.java_cp, args.log4j, [args.target, args.oracle], commands)
        target = normalize(commands, t_lines, t_code)
        oracle = normalize(commands, o_lines, o_code)
        header = "=== %s\n" % title
        transcripts["target"].append(header + render(target))
        transcripts["oracle"].append(header + render(oracle))
        took = time.monotonic() - started
        timed_out = "timeout" in (t_code, o_code)
        timeouts_in_a_row = timeouts_in_a_row + 1 if timed_out else 0
        if timed_out:
            print("  TIMEOUT %s: a zkCli process did not finish within %ds (target exit %s, oracle exit %s)"
                  % (title, BLOCK_TIMEOUT, t_code, o_code))
        if target == oracle and not timed_out:
            passed += 1
            print("  ok    %-62s %5.1fs" % (title, took))
        elif not timed_out and recorded.get(title) == header + render(target):
            # Apache ZooKeeper's own answer can race (it closes a connection with the
            # client's next request unread, and the kernel's reset may overtake the
            # reply): the server under test matches the transcript it gave before.
            passed += 1
            print("  ok    %-62s %5.1fs (as the recorded transcript; the oracle differed this run)" % (title, took))
            print_differences(target, oracle)
        else:
            failed += 1
            print("  FAIL  %-62s %5.1fs" % (title, took))
            print_differences(target, oracle)
        sys.stdout.flush()

    write(os.path.join(args.out, "target.txt"), "".join(transcripts["target"]))
    write(os.path.join(args.out, "oracle.txt"), "".join(transcripts["oracle"]))
    complete = len(transcripts["oracle"]) == len(parse_script(args.script))
    if complete and args.expected and os.path.exists(args.expected):
        with open(args.expected, encoding="utf-8") as f:
            if f.read() != "".join(transcripts["oracle"]):
                print("  note: the oracle's transcript differs from %s (see %s/oracle.txt)"
                      % (os.path.basename(args.expected), args.out))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
