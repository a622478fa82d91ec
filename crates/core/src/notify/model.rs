//! The notification wire types, defined once in `paddock_proto::notify`.

pub use paddock_proto::notify::*;
