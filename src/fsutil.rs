//! File-system helpers shared by every command that writes a folder.

use anyhow::{Context, Result};
use std::path::Path;

/// Fills a sibling staging folder and renames it onto `dir`, so an error never leaves half a folder
/// (and an older `dir` stays as it was until the new one is complete).
pub fn write_dir_atomic(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let leaf = dir.file_name().context("output folder has no name")?.to_string_lossy().to_string();
    let staging = parent.join(format!(".{leaf}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    if let Err(e) = fill(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let old = parent.join(format!(".{leaf}.old-{}", std::process::id()));
    if dir.exists() {
        std::fs::rename(dir, &old).with_context(|| format!("moving aside {}", dir.display()))?;
    }
    std::fs::rename(&staging, dir).with_context(|| format!("renaming into {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
