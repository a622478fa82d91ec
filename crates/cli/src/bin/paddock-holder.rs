//! `paddock-holder`: the session holder, alone in a small binary. `paddock run` (and the
//! supervisor) start it when it is installed beside `paddock`: a holder lives as long as its
//! agent, and a binary with only the holder's code keeps fewer pages resident than `paddock`
//! with every command, the supervisor and the endpoint in it.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    paddock_host::process::main()
}
