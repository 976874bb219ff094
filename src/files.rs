//! File and process facts: atomic writes whose temporaries name their host and process, removal
//! of the temporaries of dead processes, an exclusive lock on an output directory, the check that
//! a destination can be written, the memory a run may use, peak memory, the host name.
//!
//! A temporary is `.NAME.tmp-HOST-PID` beside `NAME`; it is renamed onto `NAME` once written and
//! synced, so `NAME` is either absent or complete. Several hosts may share the directory (a
//! cluster file system): a temporary is stale when its process is gone on this host, or when it
//! is older than [`STALE_AFTER_S`] whatever its host (writing one takes milliseconds).
use anyhow::{Context, Result, bail};
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
/// directory, then a rename. On failure the temporary is removed (a full disk must not stay full)
/// and the error names `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path)?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        bail!("writing {}: {e}", path.display());
    }
    Ok(())
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
    remove_stale(dir, |_| true)
}

/// The stale temporaries in `dir` whose name passes `keep`, removed.
fn remove_stale(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
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
        if keep(&name) && is_stale(&name, age) {
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

/// Fails early (before heavy work) if `path` cannot be written: its directory must exist and a
/// probe file must be creatable there (which catches read-only, /proc and /sys destinations).
/// Stale temporaries of `path` left by killed runs ([`write_atomic`]'s `.NAME.tmp-HOST-PID`) are
/// removed.
pub fn check_writable(flag: &str, path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{flag}: {} is a file, not a directory; choose a path inside a directory",
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "{flag}: directory {} does not exist; create it first or choose another path",
            dir.display()
        );
    }
    if path.is_dir() {
        bail!(
            "{flag}: {} is a directory; give a file path such as {}/run.json",
            path.display(),
            path.display()
        );
    }
    let probe = dir.join(format!(".onestep-probe-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let prefix = format!(".{}{TMP_TAG}", name.unwrap_or_default());
            remove_stale(dir, |n| n.starts_with(&prefix))?;
            Ok(())
        }
        Err(e) => bail!(
            "{flag}: cannot create {} ({e}); choose a writable location",
            path.display()
        ),
    }
}

/// An exclusive lock on an output directory, held until dropped (or the process ends, however it
/// ends): `flock` on `DIR/.onestep.lock`, which records the holder's process id.
pub struct DirLock {
    _file: std::fs::File,
}

/// The name of the lock file [`lock_dir`] creates.
pub const LOCK_FILE: &str = ".onestep.lock";

/// Takes the lock on `dir` (which must exist), or fails at once, naming the process that holds
/// it, when another run writes there. `flag` is the option that named `dir`. Shared locks (runs
/// that only add to the point cache, such as figure shards) coexist with each other, never with
/// an exclusive one.
pub fn lock_dir(flag: &str, dir: &Path, shared: bool) -> Result<DirLock> {
    use std::os::fd::AsRawFd;
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("{flag}: cannot create {}", path.display()))?;
    // SAFETY: flock on a file descriptor this function owns.
    let mode = if shared { libc::LOCK_SH } else { libc::LOCK_EX };
    if unsafe { libc::flock(file.as_raw_fd(), mode | libc::LOCK_NB) } != 0 {
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = holder.trim();
        bail!(
            "{flag}: {} is in use by another onestep run{}; wait for it to end or choose another directory",
            dir.display(),
            if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            }
        );
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(DirLock { _file: file })
}

/// Bytes of memory a run may use: 90% of the least of the memory the kernel reports available
/// (MemAvailable), the headroom of this process's memory cgroup (v1 or v2, every level up to the
/// root) and the headroom under its address-space and data limits (`ulimit -v`, `ulimit -d`).
/// Every memory guard uses this.
pub fn memory_limit() -> f64 {
    let mut avail = meminfo_available().unwrap_or(8.0 * GIB);
    for h in cgroup_headroom().into_iter().chain(rlimit_headroom()) {
        avail = avail.min(h);
    }
    0.9 * avail.max(0.0)
}

const GIB: f64 = (1u64 << 30) as f64;

fn meminfo_available() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let l = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    Some(l.split_whitespace().nth(1)?.parse::<f64>().ok()? * 1024.0)
}

fn read_bytes(path: &Path) -> Option<f64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// limit − usage for each level of this process's memory cgroup that has a limit.
fn cgroup_headroom() -> Vec<f64> {
    let Ok(table) = std::fs::read_to_string("/proc/self/cgroup") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in table.lines() {
        // v2: "0::/path"; v1: "N:memory:/path".
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(ctrl), Some(rel)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (root, limit, usage) = match ctrl {
            "" => ("/sys/fs/cgroup", "memory.max", "memory.current"),
            c if c.split(',').any(|c| c == "memory") => (
                "/sys/fs/cgroup/memory",
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            ),
            _ => continue,
        };
        // The path as the host sees it, then each ancestor; a container sees its own group as the
        // root of the mount, so the mount's root is tried too.
        let mut rel = Path::new(rel.trim_start_matches('/'));
        loop {
            let dir = Path::new(root).join(rel);
            // "max" (v2) or a value near 2^63 (v1) means no limit.
            if let (Some(l), Some(u)) = (read_bytes(&dir.join(limit)), read_bytes(&dir.join(usage)))
                && l < 1e18
            {
                out.push(l - u);
            }
            match rel.parent() {
                Some(p) => rel = p,
                None => break,
            }
        }
    }
    out
}

/// limit − current size under RLIMIT_AS and RLIMIT_DATA, where they are set. Address space is
/// also taken by what never becomes resident: each thread's stack and malloc arena (up to 64 MiB
/// each with glibc), so that much per core (and two more) is kept back under RLIMIT_AS.
fn rlimit_headroom() -> Vec<f64> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let reserved = (cores + 2.0) * 64.0 * (1u64 << 20) as f64;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| -> Option<f64> {
        let l = status.lines().find(|l| l.starts_with(key))?;
        Some(l.split_whitespace().nth(1)?.parse::<f64>().ok()? * 1024.0)
    };
    let mut out = Vec::new();
    for (res, used, reserved) in [
        (libc::RLIMIT_AS, kib("VmSize:"), reserved),
        (libc::RLIMIT_DATA, kib("VmData:"), 0.0),
    ] {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct passed.
        if unsafe { libc::getrlimit(res, &mut r) } == 0 && r.rlim_cur != libc::RLIM_INFINITY {
            out.push(r.rlim_cur as f64 - used.unwrap_or(0.0) - reserved);
        }
    }
    out
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

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("onestep-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(check_writable("--json", &dir.join("missing/x.json")).is_err());
        // A parent that is a file, and destinations where nothing can be created.
        let e = check_writable("--json", &p.join("y.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a file"), "{e}");
        for bad in ["/proc/x.json", "/sys/x.json"] {
            let e = check_writable("--json", Path::new(bad))
                .unwrap_err()
                .to_string();
            assert!(e.contains("cannot create /") && e.contains(bad), "{e}");
        }
        // A failed write (rename onto a non-empty directory) leaves no temporary behind.
        let sub = dir.join("sub");
        std::fs::create_dir_all(sub.join("inner")).unwrap();
        assert!(write_atomic(&sub, b"{}").is_err());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "x.json and sub only"
        );
        // A killed run's temporary of x.json goes; another file's stays.
        let tag = host_tag();
        let dead = dir.join(format!(".x.json.tmp-{tag}-999999999"));
        let other = dir.join(format!(".y.json.tmp-{tag}-999999999"));
        std::fs::write(&dead, b"x").unwrap();
        std::fs::write(&other, b"x").unwrap();
        assert!(check_writable("--json", &p).is_ok());
        assert!(!dead.exists() && other.exists());
        std::fs::remove_file(&other).unwrap();
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            2,
            "the probe is removed"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_locked_directory_is_refused_with_its_holder() {
        let dir = std::env::temp_dir().join(format!("onestep-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let held = lock_dir("--out", &dir, false).unwrap();
        let e = lock_dir("--out", &dir, false).err().unwrap().to_string();
        let pid = std::process::id().to_string();
        assert!(
            e.starts_with("--out: ") && e.contains("in use") && e.contains(&pid),
            "{e}"
        );
        assert!(
            lock_dir("--out", &dir, true).is_err(),
            "no shard beside a drawing run"
        );
        drop(held);
        let again = lock_dir("--out", &dir, false);
        assert!(again.is_ok(), "released on drop");
        drop(again);
        // Shards share the folder with each other, not with a drawing run.
        let a = lock_dir("--out", &dir, true).unwrap();
        let b = lock_dir("--out", &dir, true).unwrap();
        assert!(lock_dir("--out", &dir, false).is_err());
        drop((a, b));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn memory_limit_is_positive_and_below_meminfo() {
        let m = memory_limit();
        assert!(
            m > 0.0 && m <= 0.9 * meminfo_available().unwrap() + 1.0,
            "{m}"
        );
    }
}
