//! One progress line on stderr: on a terminal it is rewritten in place (`[3/24] 41 s  synth ...`);
//! into a log, one line per finished job.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

pub struct Progress {
    total: usize,
    enabled: bool,
    tty: bool,
    start: Instant,
    state: Mutex<State>,
}

struct State {
    done: usize,
    running: Vec<String>,
}

impl Progress {
    pub fn new(total: usize, enabled: bool) -> Progress {
        Progress {
            total,
            enabled,
            tty: std::io::stderr().is_terminal(),
            start: Instant::now(),
            state: Mutex::new(State { done: 0, running: Vec::new() }),
        }
    }

    pub fn start(&self, label: &str) {
        let mut st = self.state.lock().expect("progress lock");
        st.running.push(label.to_string());
        if self.enabled && self.tty {
            self.draw(&st);
        }
    }

    pub fn finish(&self, label: &str, cached: bool) {
        let mut st = self.state.lock().expect("progress lock");
        st.done += 1;
        if let Some(i) = st.running.iter().position(|l| l == label) {
            st.running.remove(i);
        }
        if !self.enabled {
            return;
        }
        if self.tty {
            self.draw(&st);
        } else {
            let secs = self.start.elapsed().as_secs_f64();
            let how = if cached { " (cached)" } else { "" };
            eprintln!("[{}/{}] {secs:6.1} s  {label}{how}", st.done, self.total);
        }
    }

    fn draw(&self, st: &State) {
        let secs = self.start.elapsed().as_secs_f64();
        let mut line = format!("[{}/{}] {secs:6.1} s  {}", st.done, self.total, st.running.join(" | "));
        line.truncate(150);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
    }

    /// Ends the line on a terminal.
    pub fn done(&self) {
        if self.enabled && self.tty {
            eprintln!();
        }
    }
}
