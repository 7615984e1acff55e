//! Verilator: `-Wall` lint and testbench builds.
//!
//! Testbench builds are cached: a build folder `<root>/<name>-<hash>/` is named by a SHA-256 of
//! everything that goes into it (the Verilog text, the testbench and support text, the flags and the
//! Verilator version), so a build is redone only when one of them changes. Builds are safe under
//! concurrency (threads of one test binary, several `accelc verify` processes): an exclusive lock on
//! `<root>/.<name>-<hash>.lock` lets one of them build while the others wait and then reuse it, and
//! the build is made in a private temporary sibling folder (named by process and a per-process
//! counter) and renamed into place when it succeeds, so an interrupted or failed build never leaves
//! a folder that looks finished.

use super::{require, MissingTool};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "apt-get install verilator";

/// The Verilator executable, or an error that says how to install it.
pub fn find() -> Result<PathBuf, MissingTool> {
    require("verilator", INSTALL)
}

/// `verilator --version`, e.g. `Verilator 5.006 2023-01-22 rev (Debian 5.006-3)`.
pub fn version() -> Result<String> {
    let exe = find()?;
    let out =
        Command::new(&exe).arg("--version").output().with_context(|| format!("running {}", exe.display()))?;
    if !out.status.success() {
        bail!("`verilator --version` failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Runs `verilator --lint-only -Wall` on `files` (relative to `dir`) with `top` as the top module and
/// returns every warning and error line (`%Warning-...`, `%Error...`); empty means clean.
pub fn lint(dir: &Path, files: &[String], top: &str) -> Result<Vec<String>> {
    let exe = find()?;
    let out = Command::new(&exe)
        .current_dir(dir)
        .args(["--lint-only", "-Wall", "--top-module", top])
        .args(files)
        .output()
        .with_context(|| format!("running verilator --lint-only in {}", dir.display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("%Warning") || l.starts_with("%Error"))
        .map(str::to_string)
        .collect();
    if !out.status.success() && lines.is_empty() {
        bail!("verilator --lint-only failed without a message: {}", text.trim());
    }
    Ok(lines)
}

/// The waveform format a testbench build can dump: Verilator compiles in one tracer per build
/// (`--trace` gives VCD, `--trace-fst` FST), so each format is its own build (its flags are hashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaveFormat {
    /// Value change dump (text; every waveform viewer reads it).
    #[default]
    Vcd,
    /// GTKWave's compressed binary format (GTKWave and Surfer read it; much smaller than VCD).
    Fst,
}

impl WaveFormat {
    /// The format a waveform file's extension names: `.vcd` or `.fst`.
    pub fn of_path(path: &Path) -> Result<WaveFormat> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("vcd") => Ok(WaveFormat::Vcd),
            Some("fst") => Ok(WaveFormat::Fst),
            _ => bail!("{}: a waveform file must end in .vcd or .fst", path.display()),
        }
    }

    /// The Verilator flag that compiles this tracer in.
    pub fn flag(self) -> &'static str {
        match self {
            WaveFormat::Vcd => "--trace",
            WaveFormat::Fst => "--trace-fst",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            WaveFormat::Vcd => "vcd",
            WaveFormat::Fst => "fst",
        }
    }
}

/// Everything one testbench build is made of.
#[derive(Debug, Clone)]
pub struct TestbenchSources<'a> {
    /// Names the build folder (the config's name).
    pub name: &'a str,
    /// The Verilog top module.
    pub top: &'a str,
    /// (file name, text) of every Verilog source, in the order Verilator reads them.
    pub verilog: Vec<(&'a str, &'a str)>,
    /// The rendered C++ testbench (`tb_top.cpp`).
    pub tb_cpp: &'a str,
    /// (file name, text) of the shared C++ support it includes (sim/).
    pub support: Vec<(&'a str, &'a str)>,
    /// The waveform format the build can dump.
    pub wave: WaveFormat,
}

/// The C++ class prefix of every build: the testbench includes `Vdut.h`.
pub const CLASS: &str = "Vdut";
const EXE: &str = "accelc_tb";

fn build_args(top: &str, wave: WaveFormat) -> Vec<String> {
    [
        "--cc",
        "--exe",
        "--build",
        "-O2",
        wave.flag(),
        "-j",
        "2",
        "-Wno-fatal",
        "--top-module",
        top,
        "--prefix",
        CLASS,
        "-Mdir",
        "obj_dir",
        "-o",
        EXE,
        "-CFLAGS",
        "-I..",
        // The generated C++ unoptimized: half the build time (a system testbench: 14 s instead of 30 s;
        // tests build many testbenches and run short cases); `make verify` took 12 min 23 s with it.
        "-MAKEFLAGS",
        "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A built testbench.
#[derive(Debug, Clone)]
pub struct Testbench {
    pub exe: PathBuf,
    pub dir: PathBuf,
    /// The build hash (16 hex digits).
    pub hash: String,
    /// True when an earlier build was reused.
    pub cached: bool,
    /// The waveform format it dumps (`+trace=FILE`).
    pub wave: WaveFormat,
}

/// The hash that names a build of `src`.
pub fn build_hash(src: &TestbenchSources, verilator_version: &str) -> String {
    let mut h = Sha256::new();
    let mut part = |tag: &str, bytes: &[u8]| {
        h.update(tag.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    part("verilator", verilator_version.as_bytes());
    part("args", build_args(src.top, src.wave).join(" ").as_bytes());
    for (name, text) in &src.verilog {
        part("v-name", name.as_bytes());
        part("v-text", text.as_bytes());
    }
    part("tb", src.tb_cpp.as_bytes());
    for (name, text) in &src.support {
        part("sim-name", name.as_bytes());
        part("sim-text", text.as_bytes());
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Builds (or reuses) the testbench for `src` under `root` (e.g. `rtl_out/.build`): runs
/// `verilator --cc --exe --build -O2 --trace -j 2`, C++ at -O0 (`--trace-fst` for an FST build) on the Verilog and
/// `tb_top.cpp`, and returns the executable. The build log is kept as `build.log` in the build folder.
pub fn build_testbench(root: &Path, src: &TestbenchSources) -> Result<Testbench> {
    let exe_tool = find()?;
    let ver = version()?;
    let hash = build_hash(src, &ver);
    let dir = root.join(format!("{}-{hash}", src.name));
    let exe = dir.join("obj_dir").join(EXE);
    if exe.is_file() {
        return Ok(Testbench { exe, dir, hash, cached: true, wave: src.wave });
    }
    std::fs::create_dir_all(root).with_context(|| format!("creating {}", root.display()))?;
    // One builder per hash: the others wait here, then find the finished build.
    let lock_path = root.join(format!(".{}-{hash}.lock", src.name));
    let lock =
        std::fs::File::create(&lock_path).with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
    if exe.is_file() {
        return Ok(Testbench { exe, dir, hash, cached: true, wave: src.wave });
    }
    let tmp = root.join(format!(".{}-{hash}.tmp{}", src.name, crate::fsutil::unique_suffix()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let write = |name: &str, text: &str| {
        std::fs::write(tmp.join(name), text).with_context(|| format!("writing {}", tmp.join(name).display()))
    };
    for (name, text) in src.verilog.iter().chain(&src.support) {
        write(name, text)?;
    }
    write("tb_top.cpp", src.tb_cpp)?;
    let mut cmd = Command::new(&exe_tool);
    cmd.current_dir(&tmp)
        .args(build_args(src.top, src.wave))
        .args(src.verilog.iter().map(|(n, _)| *n))
        .arg("tb_top.cpp");
    let out = cmd.output().with_context(|| format!("running verilator in {}", tmp.display()))?;
    let log = format!(
        "$ verilator {}\n{}{}",
        build_args(src.top, src.wave).join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(tmp.join("build.log"), &log)?;
    if !out.status.success() || !tmp.join("obj_dir").join(EXE).is_file() {
        let tail: Vec<&str> =
            log.lines().filter(|l| l.contains("rror") || l.starts_with('%')).take(20).collect();
        let failed = root.join(format!("{}-{hash}.failed", src.name));
        let _ = std::fs::remove_dir_all(&failed);
        let _ = std::fs::rename(&tmp, &failed);
        bail!(
            "verilator build of {} failed (log: {}):\n{}",
            src.name,
            failed.join("build.log").display(),
            tail.join("\n")
        );
    }
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process finished the same build first: use theirs.
        let _ = std::fs::remove_dir_all(&tmp);
        if !exe.is_file() {
            bail!("could not move the build into {}", dir.display());
        }
    }
    Ok(Testbench { exe, dir, hash, cached: false, wave: src.wave })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(wave: WaveFormat) -> TestbenchSources<'static> {
        TestbenchSources {
            name: "t",
            top: "t",
            verilog: vec![("t.v", "module t; endmodule\n")],
            tb_cpp: "int main() {}\n",
            support: vec![],
            wave,
        }
    }

    #[test]
    fn each_waveform_format_is_its_own_build() {
        let (vcd, fst) = (sources(WaveFormat::Vcd), sources(WaveFormat::Fst));
        assert_ne!(build_hash(&vcd, "v"), build_hash(&fst, "v"));
        assert!(build_args("t", WaveFormat::Fst).contains(&"--trace-fst".to_string()));
        assert!(!build_args("t", WaveFormat::Vcd).contains(&"--trace-fst".to_string()));
    }

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(WaveFormat::of_path(Path::new("a/x.vcd")).unwrap(), WaveFormat::Vcd);
        assert_eq!(WaveFormat::of_path(Path::new("x.FST")).unwrap(), WaveFormat::Fst);
        for bad in ["x.ghw", "x", "fst"] {
            let e = WaveFormat::of_path(Path::new(bad)).unwrap_err().to_string();
            assert!(e.contains("must end in .vcd or .fst"), "{e}");
        }
    }
}
