//! `rzk storage-bench`: figures for the storage layer (prints, asserts nothing).

/// Options of `rzk storage-bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Directory to write in (on the disk to measure).
    #[arg(long, default_value = "/tmp/rzk-bench")]
    pub dir: std::path::PathBuf,
}

/// Runs the benchmark; returns the report.
pub fn run(_args: &BenchArgs) -> Result<String, String> {
    Err("not implemented".into())
}
