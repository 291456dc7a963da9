//! Facts about the process and its host that commands report and only the operating
//! system knows: directory sizes (`dirs`, `conf`), file descriptors (`mntr`), and the
//! `Environment` list (`envi`, Java's `Environment.list`).

use std::path::{Path, PathBuf};

/// Where snapshots and logs live inside `dataDir`/`dataLogDir` (`FileTxnSnapLog`).
pub fn version_dir(dir: &Path) -> PathBuf {
    dir.join("version-2")
}

/// Total size of the files directly in `dir` (`FileTxnSnapLog.getDataDirSize`); 0 when
/// it does not exist.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// `(open, max)` file descriptors of this process (`UnixOperatingSystemMXBean`).
pub fn file_descriptors() -> (i64, i64) {
    let open = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(-1);
    let max = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse().ok()
        })
        .unwrap_or(-1);
    (open, max)
}

/// Clock ticks per second of the times in `/proc` (`sysconf(_SC_CLK_TCK)`; 100 when
/// unknown).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// Field `n` of a `/proc/<pid>/stat` line, numbered as proc(5) numbers them (from 3: the
/// command name in field 2 may hold spaces and parentheses, so fields are counted after
/// its last closing parenthesis).
pub fn stat_field(text: &str, n: usize) -> Option<u64> {
    let after = text.get(text.rfind(')')? + 1..)?;
    after
        .split_whitespace()
        .nth(n.checked_sub(3)?)?
        .parse()
        .ok()
}

/// utime + stime of a `/proc/<pid>/stat` line (fields 14 and 15).
pub fn cpu_from_stat(text: &str, ticks_per_sec: u64) -> Option<std::time::Duration> {
    let ticks = stat_field(text, 14)? + stat_field(text, 15)?;
    Some(std::time::Duration::from_secs_f64(
        ticks as f64 / ticks_per_sec as f64,
    ))
}

/// The number on the `key` line of a `/proc` table such as `/proc/<pid>/status` or
/// `/proc/meminfo` (`VmRSS:`, `Threads:`; sizes there are in kB).
pub fn proc_value(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Resident and total memory in MB, standing in for the JVM's free/max/total heap.
fn memory_mb() -> (i64, i64, i64) {
    let kb = |text: &str, key: &str| proc_value(text, key).map(|v| v as i64);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let rss = kb(&status, "VmRSS:").unwrap_or(0) / 1024;
    let total = kb(&meminfo, "MemTotal:").unwrap_or(0) / 1024;
    let free = kb(&meminfo, "MemAvailable:").unwrap_or(0) / 1024;
    (free, total, rss)
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        other => other,
    }
}

fn os_name() -> String {
    let os = std::env::consts::OS;
    let mut c = os.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Java's `Environment.list()`: the same keys in the same order. The JVM entries name
/// this process instead (`java.home` is the executable's directory, `java.class.path` the
/// executable); values that do not exist print `<NA>` as in Java.
pub fn environment() -> Vec<(&'static str, String)> {
    let na = || "<NA>".to_string();
    let exe = std::env::current_exe().ok();
    let (free, max, total) = memory_mb();
    let var = |k: &str| std::env::var(k).ok();
    vec![
        ("zookeeper.version", super::VERSION.to_string()),
        (
            "host.name",
            read_trimmed("/proc/sys/kernel/hostname").unwrap_or_else(na),
        ),
        ("java.version", na()),
        ("java.vendor", na()),
        (
            "java.home",
            exe.as_ref()
                .and_then(|e| e.parent())
                .map(|p| p.display().to_string())
                .unwrap_or_else(na),
        ),
        (
            "java.class.path",
            exe.as_ref()
                .map(|e| e.display().to_string())
                .unwrap_or_else(na),
        ),
        (
            "java.library.path",
            var("LD_LIBRARY_PATH").unwrap_or_else(na),
        ),
        ("java.io.tmpdir", std::env::temp_dir().display().to_string()),
        ("java.compiler", na()),
        ("os.name", os_name()),
        ("os.arch", arch().to_string()),
        (
            "os.version",
            read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(na),
        ),
        (
            "user.name",
            var("USER").or_else(|| var("LOGNAME")).unwrap_or_else(na),
        ),
        ("user.home", var("HOME").unwrap_or_else(na)),
        (
            "user.dir",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|_| na()),
        ),
        ("os.memory.free", format!("{free}MB")),
        ("os.memory.max", format!("{max}MB")),
        ("os.memory.total", format!("{total}MB")),
    ]
}

/// Per-call facts that need the file system.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub uptime_ms: i64,
    pub data_dir_size: u64,
    pub log_dir_size: u64,
    pub open_fds: i64,
    pub max_fds: i64,
}

impl Facts {
    pub fn gather(ops: &super::Ops) -> Facts {
        let (open_fds, max_fds) = file_descriptors();
        Facts {
            uptime_ms: ops.uptime_ms(),
            data_dir_size: dir_size(&version_dir(&ops.cfg.data_dir)),
            log_dir_size: dir_size(&version_dir(&ops.cfg.data_log_dir)),
            open_fds,
            max_fds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_keys_follow_javas_order() {
        let keys: Vec<_> = environment().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys.first(), Some(&"zookeeper.version"));
        assert_eq!(keys.get(9), Some(&"os.name"));
        assert_eq!(keys.last(), Some(&"os.memory.total"));
        assert_eq!(keys.len(), 18);
    }

    #[test]
    fn missing_directory_has_size_zero() {
        assert_eq!(dir_size(Path::new("/nonexistent/rzk")), 0);
    }

    #[test]
    fn cpu_time_skips_a_command_name_with_spaces() {
        let stat =
            "42 (my (odd) proc) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 0 0";
        assert_eq!(
            cpu_from_stat(stat, 100),
            Some(std::time::Duration::from_secs(3))
        );
        assert_eq!(stat_field(stat, 3), None, "the state is not a number");
        assert_eq!(stat_field(stat, 22), Some(100));
    }

    #[test]
    fn rss_reads_kib() {
        assert_eq!(
            proc_value("Name:\tx\nVmRSS:\t  2048 kB\n", "VmRSS:").map(|kib| kib * 1024),
            Some(2 << 20)
        );
    }
}
