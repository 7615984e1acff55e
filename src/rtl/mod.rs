//! IR -> Verilog through the tera templates in `templates/`. (Being written.)

use crate::config::Config;
use anyhow::Result;
use std::path::Path;

/// A generated design: every file's name and text, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Design {
    pub top: String,
    /// (file name, contents): Verilog sources in dependency order, then files.f and manifest.json.
    pub files: Vec<(String, String)>,
}

impl Design {
    /// The Verilog sources, in the order a tool must read them.
    pub fn verilog_files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(n, _)| n.as_str()).filter(|n| n.ends_with(".v"))
    }

    /// Writes every file into `dir`, replacing it atomically: a sibling temp folder is filled first.
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        let _ = dir;
        anyhow::bail!("rtl::Design::write_dir is being written")
    }
}

pub fn generate(config: &Config) -> Result<Design> {
    let _ = config;
    anyhow::bail!("rtl::generate is being written")
}
