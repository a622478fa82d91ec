//! `paddock up` and friends: the supervisor finds sessions, survives `kill -9`, and is alone.

#[path = "../common/mod.rs"]
mod common;

mod discovery;
mod lifecycle;
mod states;
mod support;
