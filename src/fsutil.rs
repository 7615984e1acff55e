//! File-system helpers shared by every command that writes a folder.

use anyhow::{Context, Result};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// `<pid>-<n>`: a name part that no other process, and no other call in this process, ever gets.
/// Temporary files and folders carry it: tests run as threads of one process, so the pid alone would
/// let two of them write (and delete) the same temporary folder.
pub fn unique_suffix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Fills a sibling staging folder and renames it onto `dir`, so an error never leaves half a folder
/// (and an older `dir` stays as it was until the new one is complete). Safe when several threads or
/// processes write the same `dir` at once: the last complete folder wins.
pub fn write_dir_atomic(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let leaf = dir.file_name().context("output folder has no name")?.to_string_lossy().to_string();
    let staging = parent.join(format!(".{leaf}.tmp-{}", unique_suffix()));
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    if let Err(e) = fill(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // A rename onto a non-empty folder fails, and another writer may put one back between our move
    // aside and our rename: move aside again and retry.
    let mut moved = Vec::new();
    let mut attempts = 0;
    let result = loop {
        attempts += 1;
        if dir.exists() {
            let old = parent.join(format!(".{leaf}.old-{}", unique_suffix()));
            if std::fs::rename(dir, &old).is_ok() {
                moved.push(old);
            }
        }
        match std::fs::rename(&staging, dir) {
            Ok(()) => break Ok(()),
            Err(e) if attempts >= 100 => {
                break Err(e).with_context(|| format!("renaming into {}", dir.display()));
            }
            Err(_) => continue,
        }
    };
    if result.is_ok() {
        for old in moved {
            let _ = std::fs::remove_dir_all(old);
        }
    } else {
        // Keep what was moved aside (the caller's older output); drop only our staging copy.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}
