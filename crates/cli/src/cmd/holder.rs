//! `paddock __holder`: runs a session holder (see `paddock_host::process`), for when the
//! dedicated `paddock-holder` binary is not installed beside `paddock`.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    paddock_host::process::main()
}
