//! Helpers of more than one module: the time the CLIs get, and an API that answers 529
//! Overloaded.

use paddock_fakeapi::{Reply, Script, When};
use std::time::Duration;

/// Generous: the CLIs are large programs and the machine is shared.
pub const T: Duration = Duration::from_secs(90);
/// The API answers "are you there" with 529 Overloaded, not to be retried: `should_retry(false)`
/// sends `x-should-retry: false`; without it Claude Code retries (up to 10 attempts with
/// backoff) before giving up.
pub fn overloaded() -> Script {
    Script::new().then(
        Reply::error(529, "overloaded_error", "Overloaded")
            .should_retry(false)
            .when(When::UserSays("are you there".into())),
    )
}
