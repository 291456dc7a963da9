//! The JVM and process families Apache ZooKeeper's Prometheus provider exports next to
//! its own metrics (`exportJvmInfo`, on by default: simpleclient's `DefaultExports`),
//! rendered for this process.
//!
//! Dashboards built for ZooKeeper query some of them (threads, memory, garbage
//! collection, CPU). The process facts are the real ones (CPU, start time, memory,
//! file descriptors); the JVM families carry what means the same for a native process
//! (threads, resident memory) and zero for what it does not have (loaded classes,
//! collections, deadlocks). Each family has the help text and type simpleclient gives
//! it, and is written here rather than through the `metrics` recorder because
//! `process_cpu_seconds_total` is a fractional counter and `jvm_gc_collection_seconds`
//! a summary without quantiles, neither of which the recorder can express.

use super::system;
use std::fmt::Write;

/// The families, in exposition format.
pub fn families() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| system::proc_value(&status, key).unwrap_or(0) as f64;
    let threads = field("Threads:");
    let rss = field("VmRSS:") * 1024.0;
    let virt = field("VmSize:") * 1024.0;
    let (open, max) = system::file_descriptors();
    let times = CpuTimes::read();
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (suffix_and_labels, v) in samples {
            let _ = writeln!(out, "{name}{suffix_and_labels} {v}");
        }
    };
    family(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        &[("", times.cpu_seconds)],
    );
    family(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        &[("", times.start_time_seconds)],
    );
    family(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        &[("", open as f64)],
    );
    family(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        &[("", max as f64)],
    );
    family(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        &[("", virt)],
    );
    family(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        &[("", rss)],
    );
    family(
        "jvm_memory_bytes_used",
        "gauge",
        "Used bytes of a given JVM memory area.",
        &[("{area=\"heap\"}", rss)],
    );
    family(
        "jvm_memory_pool_bytes_used",
        "gauge",
        "Used bytes of a given JVM memory pool.",
        &[("{pool=\"native\"}", rss)],
    );
    family(
        "jvm_threads_current",
        "gauge",
        "Current thread count of a JVM",
        &[("", threads)],
    );
    family(
        "jvm_threads_daemon",
        "gauge",
        "Daemon thread count of a JVM",
        &[("", threads)],
    );
    family(
        "jvm_threads_deadlocked",
        "gauge",
        "Cycles of JVM-threads that are in deadlock waiting to acquire object monitors or ownable synchronizers",
        &[("", 0.0)],
    );
    family(
        "jvm_threads_state",
        "gauge",
        "Current count of threads by state",
        &[("{state=\"RUNNABLE\"}", threads)],
    );
    family(
        "jvm_gc_collection_seconds",
        "summary",
        "Time spent in a given JVM garbage collector in seconds.",
        &[("_count{gc=\"none\"}", 0.0), ("_sum{gc=\"none\"}", 0.0)],
    );
    family(
        "jvm_classes_loaded",
        "gauge",
        "The number of classes that are currently loaded in the JVM",
        &[("", 0.0)],
    );
    out
}

/// CPU time and start time of this process, from `/proc`.
struct CpuTimes {
    cpu_seconds: f64,
    start_time_seconds: f64,
}

impl CpuTimes {
    fn read() -> CpuTimes {
        let ticks = system::clock_ticks();
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let boot = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| system::proc_value(&s, "btime "))
            .unwrap_or(0) as f64;
        CpuTimes {
            cpu_seconds: system::cpu_from_stat(&stat, ticks).map_or(0.0, |d| d.as_secs_f64()),
            // starttime, field 22, in clock ticks since boot.
            start_time_seconds: boot
                + system::stat_field(&stat, 22).unwrap_or(0) as f64 / ticks as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_help_type_and_a_sample() {
        let text = families();
        for name in [
            "process_cpu_seconds_total",
            "process_start_time_seconds",
            "process_open_fds",
            "process_max_fds",
            "process_virtual_memory_bytes",
            "process_resident_memory_bytes",
            "jvm_threads_current",
            "jvm_gc_collection_seconds",
        ] {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}: {text}");
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}: {text}");
        }
        assert!(text.contains("jvm_gc_collection_seconds_count{gc=\"none\"} 0\n"));
        assert!(!text.contains("quantile"), "{text}");
    }

    #[test]
    fn start_time_is_a_recent_epoch_second_and_cpu_time_is_fractional() {
        let t = CpuTimes::read();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        assert!(t.start_time_seconds > 1.0e9 && t.start_time_seconds <= now + 1.0);
        assert!(t.cpu_seconds >= 0.0);
    }
}
