//! The key the saved parse's stamp hashes environment variable values with. A plain
//! digest of a value (a password read by profiles.yml, say) saved under target/ could be
//! tested against guesses by anyone holding a copy of the folder; a keyed one (HMAC-SHA256)
//! cannot without the key, which lives outside the project: `$XDG_CACHE_HOME/mart/stamp.key`
//! or `~/.cache/mart/stamp.key`, 32 random bytes from the OS, readable by its owner only.

use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

const KEY_LEN: usize = 32;

/// HMAC-SHA256 of `value` under the user's stamp key, with the variable's `name` mixed in
/// (two variables holding the same value do not show it), as hex. `None` when the key
/// can be neither read nor created: the value is then not stamped at all.
pub(crate) fn keyed_digest(name: &str, value: &str) -> Option<String> {
    let key = process_key()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(name.as_bytes());
    mac.update(&[0]);
    mac.update(value.as_bytes());
    Some(
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The key, read (or created) once per process.
fn process_key() -> Option<&'static [u8; KEY_LEN]> {
    static KEY: OnceLock<Option<[u8; KEY_LEN]>> = OnceLock::new();
    KEY.get_or_init(|| load_or_create(&key_path()?).ok())
        .as_ref()
}

/// `$XDG_CACHE_HOME/mart/stamp.key`, else `$HOME/.cache/mart/stamp.key` (a relative
/// XDG_CACHE_HOME is ignored, as the XDG spec says).
fn key_path() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|home| !home.is_empty())
                .map(|home| PathBuf::from(home).join(".cache"))
        })?;
    Some(cache.join("mart").join("stamp.key"))
}

/// The key at `path`, created (mode 0600, its folder 0700) when there is none. Two
/// processes creating it at once agree on one key: each writes a file of its own and
/// links it into place, and the one that finds a key there already reads that.
fn load_or_create(path: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    match read_key(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        found => return found,
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("the key path has no folder"))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let own = dir.join(format!("stamp.key.{}", std::process::id()));
    let _ = std::fs::remove_file(&own);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&own)?;
    let written = file.write_all(&key).and_then(|()| file.sync_all());
    let linked = written.and_then(|()| std::fs::hard_link(&own, path));
    let _ = std::fs::remove_file(&own);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => read_key(path),
        Err(e) => Err(e),
    }
}

fn read_key(path: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    let bytes = std::fs::read(path)?;
    bytes.try_into().map_err(|_| {
        std::io::Error::new(
            ErrorKind::InvalidData,
            format!("{} is not {KEY_LEN} bytes long", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mart_stamp_key_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_key_is_created_private_once_and_then_read_back() {
        let dir = temp("create");
        let path = dir.join("mart/stamp.key");
        let key = load_or_create(&path).unwrap();
        assert_ne!(key, [0u8; KEY_LEN]);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.join("mart")), 0o700);
        assert_eq!(load_or_create(&path).unwrap(), key);
        // Only the key is left in the folder.
        assert_eq!(std::fs::read_dir(dir.join("mart")).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_damaged_or_unreachable_key_is_an_error() {
        let dir = temp("damaged");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stamp.key"), b"short").unwrap();
        assert!(load_or_create(&dir.join("stamp.key")).is_err());
        // A file where the folder should be.
        assert!(load_or_create(&dir.join("stamp.key/mart/stamp.key")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
