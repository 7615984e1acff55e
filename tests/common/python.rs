//! The project's Python (`.venv/bin/python`, made by `bash scripts/setup.sh`) for the tests that run
//! generated Python: the system top's host library (numpy) and its cocotb test (cocotb, cocotbext-axi).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `.venv/bin/python` of the checkout, after checking that it imports `modules`; panics with the
/// command that installs them when it does not.
pub fn venv_python(modules: &[&str]) -> PathBuf {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash scripts/setup.sh` (it creates the project's .venv with numpy, cocotb and cocotbext-axi)",
        python.display()
    );
    let imports = format!("import {}", modules.join(", "));
    let out = Command::new(&python).args(["-c", &imports]).output().expect("running .venv/bin/python");
    assert!(
        out.status.success(),
        "{} cannot `{imports}`: run `bash scripts/setup.sh` to install them into .venv\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    python
}

/// What a command printed and whether it succeeded; `None` status: killed at the time limit.
pub struct Finished {
    pub success: Option<bool>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` in `dir` with its output in `dir/<tag>.stdout|.stderr`, killing it after `limit`.
pub fn run_within(cmd: &mut Command, dir: &Path, tag: &str, limit: Duration) -> Finished {
    let (out_path, err_path) = (dir.join(format!("{tag}.stdout")), dir.join(format!("{tag}.stderr")));
    let mut child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let start = Instant::now();
    let success = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.success());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Finished { success, stdout: read(&out_path), stderr: read(&err_path) }
}

/// Runs `python script args...` in `dir` (at most `limit`); panics with its output when it fails.
pub fn run(python: &Path, dir: &Path, script: &Path, args: &[&str], limit: Duration) -> String {
    let f = run_within(Command::new(python).arg(script).args(args), dir, "python", limit);
    match f.success {
        Some(true) => f.stdout,
        Some(false) => {
            panic!("{} {} failed:\n{}\n{}", python.display(), script.display(), f.stdout, f.stderr)
        }
        None => panic!(
            "{} {} ran over {limit:?}:\n{}\n{}",
            python.display(),
            script.display(),
            f.stdout,
            f.stderr
        ),
    }
}
