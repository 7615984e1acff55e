//! The errors every command shares and their exit codes: 2 for bad input (a config error or
//! [`BadInput`] anywhere in the cause chain), 1 for everything else. Library modules raise these;
//! the binary only maps them to a message and an exit code.

use crate::config::ConfigErrors;

/// Bad input that is not a config error (a missing file, an unreadable .npy): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for an error: 2 for bad input, 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = err.chain().any(|e| e.is::<ConfigErrors>() || e.is::<BadInput>());
    if bad_input {
        2
    } else {
        1
    }
}

/// The message for an error: config problems one per line, others with their cause chain.
pub fn describe(err: &anyhow::Error) -> String {
    if let Some(errors) = err.downcast_ref::<ConfigErrors>() {
        return errors.to_string();
    }
    format!("error: {err:#}")
}
