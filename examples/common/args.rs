//! The command line every example accepts: `[--out DIR]` (default `target/nninit-plots/`).

use std::path::PathBuf;

/// Where plots go when `--out` is not given.
pub const DEFAULT_OUT: &str = "target/nninit-plots";

/// Parsed command-line options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Directory the SVG plots are written to (created if missing).
    pub out: PathBuf,
}

impl Args {
    /// Parses the process's arguments and creates the output directory.
    pub fn from_env(example: &str) -> Result<Args, super::BoxError> {
        let args = Args::parse(example, std::env::args().skip(1))?;
        std::fs::create_dir_all(&args.out)
            .map_err(|e| format!("cannot create plot directory {}: {e}", args.out.display()))?;
        Ok(args)
    }

    /// Parses `--out DIR`, `--out=DIR` and `--help`; anything else is an error naming it.
    pub fn parse<I>(example: &str, args: I) -> Result<Args, String>
    where
        I: IntoIterator<Item = String>,
    {
        let mut out = PathBuf::from(DEFAULT_OUT);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--out" {
                out = args
                    .next()
                    .map(PathBuf::from)
                    .ok_or("--out needs a directory")?;
            } else if let Some(dir) = arg.strip_prefix("--out=") {
                out = PathBuf::from(dir);
            } else if arg == "--help" || arg == "-h" {
                println!("usage: cargo run --release --example {example} -- [--out DIR]");
                println!("  --out DIR   where to write the SVG plots (default {DEFAULT_OUT}/)");
                std::process::exit(0);
            } else {
                return Err(format!("unknown argument {arg:?} (expected --out DIR)"));
            }
        }
        Ok(Args { out })
    }

    /// The path of plot `name` (e.g. `"costs.svg"`) in the output directory.
    pub fn plot_path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }
}
