//! `paddock`'s build step: records the commit it is built from (see build_commit.rs).

mod build_commit;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build_commit.rs");
    build_commit::record();
}
