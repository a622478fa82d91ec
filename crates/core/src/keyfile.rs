//! Private files: keys and secrets written 0600 in a 0700 directory, atomically (a temporary
//! file renamed into place), and read back or made on first use.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Writes `bytes` to `path` (0600), creating its directory (0700) if needed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The file's bytes if it exists and `valid` accepts them; made by `make` (and written 0600)
/// if it does not exist. A file that exists but is not valid is an error that says so: it is
/// never silently replaced (subscriptions or pairings may depend on it).
pub fn read_or_make(
    path: &Path,
    valid: impl Fn(&[u8]) -> bool,
    make: impl FnOnce() -> std::io::Result<Vec<u8>>,
) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) if valid(&bytes) => Ok(bytes),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is not a valid key file; move it away to make a new one",
                path.display()
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = make()?;
            write_private(path, &bytes)?;
            Ok(bytes)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_private_and_a_damaged_one_is_not_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/k.key");
        let first = read_or_make(&path, |b| b.len() == 4, || Ok(vec![1, 2, 3, 4])).expect("made");
        let again = read_or_make(&path, |b| b.len() == 4, || Ok(vec![9; 4])).expect("read");
        assert_eq!(first, again, "made once");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, b"xx").expect("damage");
        let err = read_or_make(&path, |b| b.len() == 4, || Ok(vec![9; 4])).expect_err("damaged");
        assert!(err.to_string().contains("move it away"), "{err}");
        assert_eq!(std::fs::read(&path).expect("kept"), b"xx");
    }
}
