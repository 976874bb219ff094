//! File and process facts of a sweep: atomic writes whose temporaries name their host and process,
//! removal of the temporaries of dead processes, the host name, peak memory.
//!
//! A temporary is `.NAME.tmp-HOST-PID` beside `NAME`; it is renamed onto `NAME` once written and
//! synced, so `NAME` is either absent or complete. Several hosts may share the directory (a
//! cluster file system): a temporary is stale when its process is gone on this host, or when it
//! is older than [`STALE_AFTER_S`] whatever its host (writing one takes milliseconds).
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Age in seconds after which any temporary is stale.
pub const STALE_AFTER_S: u64 = 3600;

const TMP_TAG: &str = ".tmp-";

/// This machine's host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `unknown`).
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// The host name as it appears in temporary names: ASCII letters, digits, `.` and `_` only.
pub fn host_tag() -> String {
    host()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn temp_path(path: &Path) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    Ok(dir.join(format!(
        ".{}{TMP_TAG}{}-{}",
        name.to_string_lossy(),
        host_tag(),
        std::process::id()
    )))
}

/// Writes `bytes` to `path` atomically: a synced temporary `.NAME.tmp-HOST-PID` in the same
/// directory, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path)?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", tmp.display()));
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// The host tag and process id of a temporary's name, if it is one.
fn temp_owner(name: &str) -> Option<(&str, u32)> {
    if !name.starts_with('.') {
        return None;
    }
    let at = name.rfind(TMP_TAG)?;
    let tail = &name[at + TMP_TAG.len()..];
    let (host, pid) = tail.rsplit_once('-')?;
    Some((host, pid.parse().ok()?))
}

/// Whether a temporary named `name` with modification age `age_s` is stale here.
fn is_stale(name: &str, age_s: u64) -> bool {
    let Some((host, pid)) = temp_owner(name) else {
        return false;
    };
    if age_s > STALE_AFTER_S {
        return true;
    }
    host == host_tag() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the stale temporaries in `dir` (not recursive); returns their paths.
pub fn remove_stale_temporaries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let age = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .map_or(0, |d| d.as_secs());
        if is_stale(&name, age) {
            match std::fs::remove_file(e.path()) {
                Ok(()) => removed.push(e.path()),
                // Another process cleaning the same directory got there first.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(err).with_context(|| format!("removing {}", e.path().display()));
                }
            }
        }
    }
    removed.sort();
    Ok(removed)
}

/// Whether `name` is a temporary of [`write_atomic`] (of any host or process).
pub fn is_temporary(name: &str) -> bool {
    temp_owner(name).is_some()
}

/// Resets the process's peak resident set size (`/proc/self/clear_refs`, Linux ≥ 4.0); false
/// where the kernel refuses, and the next [`peak_rss_bytes`] is then the peak of the process.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident set size of this process in bytes (`VmHWM` of `/proc/self/status`).
pub fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_name_their_owner_and_stale_ones_go() {
        let dir = std::env::temp_dir().join(format!("onestep-sweep-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        let tag = host_tag();
        let dead = dir.join(format!(".b.json.tmp-{tag}-999999999"));
        let live = dir.join(format!(".c.json.tmp-{tag}-{}", std::process::id()));
        let other = dir.join(".d.json.tmp-otherhost-1");
        for f in [&dead, &live, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        assert_eq!(temp_owner(".b.json.tmp-my-host-12"), Some(("my-host", 12)));
        assert!(is_temporary(".b.json.tmp-h-1") && !is_temporary("b.json"));
        let removed = remove_stale_temporaries(&dir).unwrap();
        assert_eq!(removed, vec![dead.clone()]);
        assert!(live.exists() && other.exists() && p.exists());
        assert!(is_stale(".d.json.tmp-otherhost-1", STALE_AFTER_S + 1));
        assert!(peak_rss_bytes().unwrap() > 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
