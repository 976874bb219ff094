//! `onestep sweep` end to end at tiny sizes: grid errors, plans, cells equal to `simulate --json`,
//! shards merged equal to one run, kill and resume, GNU parallel, and a real one-node Slurm
//! cluster (started here as root; without root or the binaries the test fails under `CI` and
//! warns otherwise).
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_onestep");

/// A small grid: 12 cells of a few milliseconds each.
const SMALL: &str = "# tiny sizes for tests
[base]
d = 16
width = 16
n = 64
n_test = 64
models = \"none\"
[grid]
alpha = [0.0, 0.2, 0.3, 0.4]
seed = [0, 1, 2]
";

/// A scratch directory removed when the test passes (kept for a look when it fails).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("onestep-sweep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn onestep(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("SLURM_CPUS_PER_TASK")
        .output()
        .expect("running onestep")
}

fn ok(args: &[&str]) -> Output {
    let o = onestep(args);
    assert!(
        o.status.success(),
        "onestep {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Plans `grid` into DIR.
fn plan(sc: &Scratch, grid: &str, dir: &str) -> PathBuf {
    let g = sc.path("grid.toml");
    std::fs::write(&g, grid).unwrap();
    let d = sc.path(dir);
    ok(&["sweep", "plan", s(&g), "-o", s(&d)]);
    d
}

fn merged(dir: &Path, out: &Path) -> Vec<u8> {
    ok(&["sweep", "merge", s(dir), "-o", s(out)]);
    std::fs::read(out).unwrap()
}

fn temporaries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for d in [dir.to_path_buf(), dir.join("cells")] {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.contains(".tmp-") {
                out.push(n);
            }
        }
    }
    out
}

/// Whether a missing tool may skip its test: never under CI (it fails loudly there).
fn skip_or_fail(why: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    let msg = format!(
        "\n************************************************************\n{why}\n************************************************************\n"
    );
    if ci {
        panic!("CI is set, so this test may not be skipped:{msg}");
    }
    eprintln!("WARNING: test skipped:{msg}");
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[test]
fn bad_grids_name_file_line_and_key() {
    let sc = Scratch::new("bad");
    let cases = [
        (
            "[base]\nd = 16\nwidht = 16\n",
            ":3:1: unknown key `widht` in [base]; did you mean `width`?",
        ),
        (
            "[grid]\nalpha = [0.1, \"x\"]\n",
            ":2:15: key `alpha` (item 2): expected a number",
        ),
        (
            "[base]\nd = 16\n[grid]\nalpha = [0.1, 0.6]\n",
            ":4: key `alpha`: cell 2 of 2 (alpha = 0.6): --alpha: got 0.6",
        ),
        (
            "[grid]\nbackend = [\"faer\"]\n",
            ":2:1: unknown key `backend`",
        ),
        ("[base\n", ":1:"),
    ];
    for (text, want) in cases {
        let g = sc.path("g.toml");
        std::fs::write(&g, text).unwrap();
        let o = onestep(&["sweep", "plan", s(&g), "-o", s(&sc.path("out"))]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{text:?}: {err}");
        let want = format!("error: {}{want}", g.display());
        assert!(err.starts_with(&want), "{text:?}:\n got {err}\nwant {want}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!sc.path("out/plan.json").exists());
    }
}

#[test]
fn plans_are_deterministic_and_a_cell_is_what_simulate_writes() {
    let sc = Scratch::new("plan");
    let a = plan(&sc, SMALL, "a");
    let b = plan(&sc, SMALL, "b");
    let pa = std::fs::read(a.join("plan.json")).unwrap();
    assert_eq!(pa, std::fs::read(b.join("plan.json")).unwrap());
    let p: Value = serde_json::from_slice(&pa).unwrap();
    assert_eq!(p["grid"], SMALL);
    let cells = p["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 12);
    assert_eq!(p["axes"], serde_json::json!(["alpha", "seed"]));
    assert_eq!(
        cells[4]["params"],
        serde_json::json!({"alpha": 0.2, "seed": 1})
    );

    // Run shard 2/12 (= cell index 1 only) and compare with simulate --json.
    ok(&["sweep", "run", s(&a), "--shard", "2/12", "--threads", "1"]);
    let id = cells[1]["id"].as_str().unwrap();
    let cell: Value =
        serde_json::from_slice(&std::fs::read(a.join(format!("cells/{id}.json"))).unwrap())
            .unwrap();
    let sim = sc.path("sim.json");
    ok(&[
        "simulate",
        "--d",
        "16",
        "--width",
        "16",
        "--n",
        "64",
        "--n-test",
        "64",
        "--models",
        "none",
        "--alpha",
        "0",
        "--seed",
        "1",
        "--threads",
        "1",
        "--json",
        s(&sim),
    ]);
    let mut want: Value = serde_json::from_slice(&std::fs::read(&sim).unwrap()).unwrap();
    let obj = want.as_object_mut().unwrap();
    obj.remove("provenance");
    obj.remove("wall_time_s");
    assert_eq!(cell, want);
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(a.join(format!("cells/{id}.manifest.json"))).unwrap(),
    )
    .unwrap();
    for k in [
        "onestep_version",
        "git_revision",
        "backend",
        "threads",
        "host",
        "wall_time_s",
        "peak_rss_bytes",
    ] {
        assert!(manifest.get(k).is_some(), "manifest lacks {k}: {manifest}");
    }
    assert_eq!(manifest["threads"], 1);
    assert!(manifest["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);

    // Planning again keeps the finished cell.
    let o = ok(&["sweep", "plan", s(&sc.path("grid.toml")), "-o", s(&a)]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 already finished"));
}

#[test]
fn shards_merged_equal_one_run_and_status_says_what_is_left() {
    let sc = Scratch::new("shards");
    let one = plan(&sc, SMALL, "one");
    let sharded = plan(&sc, SMALL, "sharded");
    ok(&["sweep", "run", s(&one), "--threads", "1"]);
    for k in ["1/3", "2/3"] {
        ok(&["sweep", "run", s(&sharded), "--shard", k, "--threads", "1"]);
    }
    // Shard 3 of 3 missing: status and merge say so.
    let st = ok(&["sweep", "status", s(&sharded), "--shards", "3"]);
    let st = String::from_utf8_lossy(&st.stdout).into_owned();
    assert!(st.contains("12 cells: 8 done, 4 missing, 0 failed"), "{st}");
    assert!(st.contains("shards to resubmit (of 3): 3\n"), "{st}");
    let o = onestep(&["sweep", "merge", s(&sharded), "-o", s(&sc.path("m.csv"))]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("4 of 12 cells are not finished: cell 3 ")
            && err.contains("alpha = 0.0, seed = 2"),
        "{err}"
    );
    ok(&[
        "sweep",
        "merge",
        s(&sharded),
        "-o",
        s(&sc.path("partial.csv")),
        "--allow-partial",
    ]);
    let partial = std::fs::read_to_string(sc.path("partial.csv")).unwrap();
    assert_eq!(partial.lines().count(), 1 + 8);
    ok(&[
        "sweep",
        "run",
        s(&sharded),
        "--shard",
        "3/3",
        "--threads",
        "1",
    ]);

    for ext in ["csv", "jsonl"] {
        let a = merged(&one, &sc.path(&format!("one.{ext}")));
        let b = merged(&sharded, &sc.path(&format!("sharded.{ext}")));
        assert!(a == b, "{ext} merges differ");
    }
    let csv = std::fs::read_to_string(sc.path("one.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[..4], &["id", "d", "width", "n"]);
    for col in [
        "alpha",
        "seed",
        "beta_overlap",
        "beta_overlap_sd",
        "top_1",
        "err_nn_test",
        "err_rf_test_sd",
        "theory_nn_test",
        "theory_rf_test",
        "theory_spiked_test",
        "theory_bulk_edge",
    ] {
        assert!(header.contains(&col), "no column {col}: {header:?}");
    }
    assert!(
        !header
            .iter()
            .any(|h| h.contains("time") || h.contains("host"))
    );
    assert_eq!(csv.lines().count(), 13);
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(sc.path("one.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["alpha"], 0.0);
    assert_eq!(first["models"], "none");
    let st = ok(&["sweep", "status", s(&sharded), "--shards", "3"]);
    assert!(String::from_utf8_lossy(&st.stdout).contains("shards to resubmit (of 3): none"));
    assert!(temporaries(&sharded).is_empty());
}

#[test]
fn a_failed_cell_is_recorded_and_the_others_go_on() {
    let sc = Scratch::new("fail");
    let dir = plan(&sc, SMALL, "d");
    // Corrupt one cell's raw parameters: its id no longer matches, so it fails at run time.
    let p = dir.join("plan.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v["cells"][5]["raw"]["seed"] = serde_json::json!(99);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let o = onestep(&["sweep", "run", s(&dir), "--threads", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("1 cells of shard 1/1 failed"), "{err}");
    assert!(
        err.contains("11 computed, 0 already finished, 1 failed"),
        "{err}"
    );
    let id = v["cells"][5]["id"].as_str().unwrap();
    let e: Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("cells/{id}.error.json"))).unwrap())
            .unwrap();
    assert!(e["error"].as_str().unwrap().contains("plan again"), "{e}");
    assert_eq!(e["raw"]["seed"], 99);
    let st = ok(&["sweep", "status", s(&dir), "--shards", "4"]);
    let st = String::from_utf8_lossy(&st.stdout).into_owned();
    assert!(st.contains("11 done, 0 missing, 1 failed"), "{st}");
    assert!(st.contains("shards to resubmit (of 4): 2\n"), "{st}");
}

/// (modification time, bytes) of every finished cell's result and manifest.
fn finished(dir: &Path) -> Vec<(String, SystemTime, Vec<u8>)> {
    let mut out = Vec::new();
    let cells = dir.join("cells");
    for e in std::fs::read_dir(&cells).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_result = name.ends_with(".json")
            && !name.starts_with('.')
            && !name.ends_with(".manifest.json")
            && !name.ends_with(".error.json");
        if is_result {
            let manifest = name.replace(".json", ".manifest.json");
            for f in [name.clone(), manifest] {
                let p = cells.join(&f);
                out.push((
                    f,
                    std::fs::metadata(&p).unwrap().modified().unwrap(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn count_results(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("cells"))
        .map(|r| {
            r.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    !n.starts_with('.')
                        && n.ends_with(".json")
                        && !n.contains(".manifest.")
                        && !n.contains(".error.")
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_run_resumes_without_recomputing_and_merges_identically() {
    let sc = Scratch::new("kill");
    // 48 cells of some tens of milliseconds each.
    let grid = "[base]\nd = 128\nwidth = 128\nn = 512\nn_test = 512\nmodels = \"none\"\n[grid]\nalpha = [0.0, 0.1, 0.2, 0.3]\nnoise = [0.0, 0.1, 0.2, 0.3]\nseed = [0, 1, 2]\n";
    let dir = plan(&sc, grid, "killed");
    let reference = plan(&sc, grid, "reference");
    let t0 = Instant::now();
    let mut child = Command::new(BIN)
        .args(["sweep", "run", s(&dir), "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    loop {
        if count_results(&dir) >= 5 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no cells after 120 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = finished(&dir);
    let done = before.len() / 2;
    assert!((5..48).contains(&done), "{done} cells finished when killed");
    // A stale temporary of a dead process on this host and an old one of another host.
    let tag = onestep::files::host_tag();
    let dead = dir.join(format!("cells/.0123456789abcdef.json.tmp-{tag}-999999999"));
    std::fs::write(&dead, b"{").unwrap();
    let old = dir.join("cells/.fedcba9876543210.json.tmp-elsewhere-42");
    let f = std::fs::File::create(&old).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    drop(f);

    let o = ok(&["sweep", "run", s(&dir), "--threads", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "48 cells: {} computed, {done} already finished, 0 failed",
            48 - done
        )),
        "{err}"
    );
    assert!(err.contains("removed"), "{err}");
    // No finished cell was computed again: same bytes, same modification times.
    let after = finished(&dir);
    for b in &before {
        assert!(after.contains(b), "{} changed on resume", b.0);
    }
    assert_eq!(after.len(), 96);
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));

    ok(&["sweep", "run", s(&reference), "--threads", "1"]);
    assert!(merged(&dir, &sc.path("a.csv")) == merged(&reference, &sc.path("b.csv")));
    eprintln!("kill and resume: {:.1} s", t0.elapsed().as_secs_f64());
}

#[test]
fn gnu_parallel_shards_merge_equal_one_run() {
    let Some(parallel) = on_path("parallel") else {
        skip_or_fail("GNU parallel is not installed (apt-get install parallel)");
        return;
    };
    let t0 = Instant::now();
    let sc = Scratch::new("parallel");
    let one = plan(&sc, SMALL, "one");
    let par = plan(&sc, SMALL, "par");
    ok(&["sweep", "run", s(&one), "--threads", "1"]);
    let o = Command::new(parallel)
        .args([
            "--will-cite",
            "--halt",
            "now,fail=1",
            BIN,
            "sweep",
            "run",
            s(&par),
        ])
        .args([
            "--shard",
            "{}/4",
            "--threads",
            "1",
            ":::",
            "1",
            "2",
            "3",
            "4",
        ])
        .env_remove("SLURM_CPUS_PER_TASK")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "parallel: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    for k in 1..=4 {
        assert!(
            err.contains(&format!("shard {k}/4: 3 cells: 3 computed")),
            "{err}"
        );
    }
    assert!(merged(&one, &sc.path("a.csv")) == merged(&par, &sc.path("b.csv")));
    eprintln!("GNU parallel: {:.1} s", t0.elapsed().as_secs_f64());
}

/// A one-node Slurm cluster in a scratch directory: munged, slurmctld and slurmd, stopped (and
/// their logs printed on failure) when dropped.
struct Cluster {
    root: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

impl Cluster {
    fn log_tail(&self) -> String {
        let mut out = String::new();
        for f in [
            "munged.log",
            "slurmctld.log",
            "slurmd.log",
            "slurmctld.out",
            "slurmd.out",
            "munged.out",
        ] {
            if let Ok(t) = std::fs::read_to_string(self.root.join(f)) {
                let lines: Vec<&str> = t.lines().collect();
                let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                out.push_str(&format!("--- {f}\n{tail}\n"));
            }
        }
        out
    }

    fn command(&self, prog: &str) -> Command {
        let mut c = Command::new(prog);
        for (k, _) in std::env::vars() {
            if k.starts_with("SLURM_") {
                c.env_remove(k);
            }
        }
        c.env("SLURM_CONF", &self.conf);
        c
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "one-node cluster logs ({}):\n{}",
                self.root.display(),
                self.log_tail()
            );
        }
        // slurmd first, munged last.
        while let Some((name, mut child)) = self.daemons.pop() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let t = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if t.elapsed() > Duration::from_secs(10) {
                    eprintln!("{name} ignored SIGTERM; killing it");
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn short_hostname() -> String {
    Command::new("hostname")
        .arg("-s")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .unwrap()
                .trim()
                .split('.')
                .next()
                .unwrap()
                .to_string()
        })
}

fn spawn_logged(c: &mut Command, root: &Path, name: &str) -> Child {
    let out = std::fs::File::create(root.join(format!("{name}.out"))).unwrap();
    c.stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"))
}

fn wait_for(what: &str, cluster: &Cluster, limit: Duration, mut ready: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ready() {
        assert!(
            t.elapsed() < limit,
            "{what} not ready after {limit:?}:\n{}",
            cluster.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts munged, slurmctld and slurmd (root only).
fn start_cluster(root: PathBuf) -> Cluster {
    use std::os::unix::fs::PermissionsExt;
    let perm = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    std::fs::create_dir_all(root.join("state")).unwrap();
    std::fs::create_dir_all(root.join("spool")).unwrap();
    std::fs::create_dir_all(root.join("munge-key")).unwrap();
    std::fs::create_dir_all(root.join("munge-run")).unwrap();
    // munged wants its socket directory readable by all and its key private.
    perm(&root, 0o755);
    perm(&root.join("munge-run"), 0o755);
    perm(&root.join("munge-key"), 0o700);
    let key = root.join("munge-key/munge.key");
    let created = on_path("mungekey").is_some_and(|mk| {
        Command::new(mk)
            .args(["--create", "--keyfile"])
            .arg(&key)
            .status()
            .is_ok_and(|s| s.success())
    });
    if !created {
        // No mungekey (munge < 0.5.14): 1024 random bytes, as `create-munge-key` writes.
        let mut bytes = vec![0u8; 1024];
        use std::io::Read;
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut bytes)
            .unwrap();
        std::fs::write(&key, bytes).unwrap();
    }
    perm(&key, 0o600);
    let sock = root.join("munge-run/munge.socket");
    let host = short_hostname();
    let conf = root.join("slurm.conf");
    let r = root.display();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::fs::write(
        &conf,
        format!(
            "ClusterName=onesteptest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={}
SlurmdPort={}
AuthType=auth/munge
AuthInfo=socket={}
CredType=cred/munge
SlurmUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SwitchType=switch/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
",
            free_port(),
            free_port(),
            sock.display()
        ),
    )
    .unwrap();
    let mut cluster = Cluster {
        root: root.clone(),
        conf: conf.clone(),
        daemons: Vec::new(),
    };
    let mut munged = Command::new(on_path("munged").unwrap());
    munged
        .arg("--foreground")
        .arg(format!("--key-file={}", key.display()))
        .arg(format!("--socket={}", sock.display()))
        .arg(format!("--pid-file={r}/munge-run/munged.pid"))
        .arg(format!("--log-file={r}/munged.log"))
        .arg(format!("--seed-file={r}/munge-run/munged.seed"));
    let child = spawn_logged(&mut munged, &root, "munged");
    cluster.daemons.push(("munged", child));
    wait_for("munged", &cluster, Duration::from_secs(20), || {
        sock.exists()
    });
    for daemon in ["slurmctld", "slurmd"] {
        let mut c = cluster.command(s(&on_path(daemon).unwrap()));
        c.arg("-D").arg("-f").arg(&conf);
        let child = spawn_logged(&mut c, &root, daemon);
        cluster.daemons.push((daemon, child));
    }
    let sinfo = on_path("sinfo").unwrap();
    wait_for("the node", &cluster, Duration::from_secs(60), || {
        cluster
            .command(s(&sinfo))
            .args(["-h", "-o", "%T"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
    });
    cluster
}

#[test]
fn a_real_one_node_slurm_cluster_runs_the_array_script() {
    let missing: Vec<&str> = ["munged", "slurmctld", "slurmd", "sbatch", "sinfo"]
        .into_iter()
        .filter(|b| on_path(b).is_none())
        .collect();
    if !missing.is_empty() {
        skip_or_fail(&format!(
            "Slurm cannot start: {} not found (apt-get install slurm-wlm munge)",
            missing.join(", ")
        ));
        return;
    }
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        skip_or_fail(
            "Slurm cannot start: the one-node cluster needs root (slurmd runs jobs as their user)",
        );
        return;
    }
    let t0 = Instant::now();
    let sc = Scratch::new("slurm");
    let one = plan(&sc, SMALL, "one");
    let dir = plan(&sc, SMALL, "cluster");
    ok(&["sweep", "run", s(&one), "--threads", "1"]);
    let script = ok(&[
        "sweep",
        "slurm-script",
        s(&dir),
        "--shards",
        "4",
        "--throttle",
        "2",
        "--extra",
        "#SBATCH --cpus-per-task=1",
        "--extra",
        "#SBATCH --time=00:10:00",
    ]);
    let script = String::from_utf8(script.stdout).unwrap();
    assert!(script.contains("#SBATCH --array=1-4%2\n"), "{script}");
    let exe = Path::new(BIN).canonicalize().unwrap();
    assert!(
        script.contains(&format!("exec {} sweep run ", exe.display())),
        "{script}"
    );
    let path = sc.path("sweep.sbatch");
    std::fs::write(&path, &script).unwrap();

    let cluster = start_cluster(sc.path("cluster-root"));
    let started = t0.elapsed().as_secs_f64();
    let t = Instant::now();
    let logs = sbatch_wait(&cluster, &path, &dir.join("logs"));
    for k in 1..=4 {
        assert!(
            logs.contains(&format!("shard {k}/4: 3 cells: 3 computed")),
            "{logs}"
        );
    }
    // Threads came from SLURM_CPUS_PER_TASK; the manifest names the array task.
    let p: Value = serde_json::from_slice(&std::fs::read(dir.join("plan.json")).unwrap()).unwrap();
    let id = p["cells"][0]["id"].as_str().unwrap();
    let m: Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("cells/{id}.manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(m["threads"], 1, "{m}");
    assert_eq!(m["slurm"]["array_task_id"], "1", "{m}");
    assert!(merged(&one, &sc.path("a.csv")) == merged(&dir, &sc.path("b.csv")));
    let sweep_done = t.elapsed().as_secs_f64();

    // A figure's points as an array job, then drawn from them: the same CSV as one process.
    let (fig_one, fig_dir) = (sc.path("fig-one"), sc.path("fig-cluster"));
    let figure = |out: &Path, more: &[&str]| {
        let mut args = vec![
            "figure",
            "overlap",
            "--quick",
            "--threads",
            "1",
            "--out",
            s(out),
        ];
        args.extend_from_slice(more);
        ok(&args)
    };
    figure(&fig_one, &[]);
    let script = figure(&fig_dir, &["--slurm-script", "3"]);
    let fig_script = sc.path("figure.sbatch");
    std::fs::write(&fig_script, &script.stdout).unwrap();
    let logs = sbatch_wait(&cluster, &fig_script, &fig_dir.join("logs"));
    for k in 1..=3 {
        assert!(logs.contains(&format!("overlap shard {k}/3: ")), "{logs}");
    }
    let drawn = figure(&fig_dir, &[]);
    let err = String::from_utf8_lossy(&drawn.stderr);
    assert!(err.contains("(0 computed"), "{err}");
    let csv = |d: &Path| std::fs::read(d.join("overlap.csv")).unwrap();
    assert!(
        csv(&fig_one) == csv(&fig_dir),
        "the figure drawn from the array's points"
    );
    drop(cluster);
    eprintln!(
        "one-node Slurm: cluster up after {started:.1} s, sweep array done after {sweep_done:.1} s, {:.1} s in all",
        t0.elapsed().as_secs_f64()
    );
}

/// Submits `script` with `sbatch --wait` (failing after 300 s with the cluster's log) and
/// returns the task logs found in `logs`.
fn sbatch_wait(cluster: &Cluster, script: &Path, logs: &Path) -> String {
    let mut sbatch = cluster
        .command(s(&on_path("sbatch").unwrap()))
        .arg("--wait")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(st) = sbatch.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > Duration::from_secs(300) {
            let _ = sbatch.kill();
            panic!(
                "sbatch --wait still waiting after 300 s:\n{}",
                cluster.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = sbatch.wait_with_output().unwrap();
    let text: String = std::fs::read_dir(logs)
        .map(|r| {
            r.flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        status.success(),
        "sbatch --wait: {status}\n{}{}\ntask logs:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn slurm_script_calls_this_binary_by_its_absolute_path() {
    let sc = Scratch::new("script");
    let dir = plan(&sc, SMALL, "d");
    let o = ok(&["sweep", "slurm-script", s(&dir), "--shards", "3"]);
    let text = String::from_utf8(o.stdout).unwrap();
    let exe = Path::new(BIN).canonicalize().unwrap();
    let dir = dir.canonicalize().unwrap();
    assert!(text.contains("#SBATCH --array=1-3\n"), "{text}");
    assert!(
        text.ends_with(&format!(
            "exec {} sweep run {} --shard slurm\n",
            exe.display(),
            dir.display()
        )),
        "{text}"
    );
    assert!(dir.join("logs").is_dir());
    let o = onestep(&[
        "sweep",
        "slurm-script",
        s(&dir),
        "--shards",
        "3",
        "--extra",
        "--time=1",
    ]);
    assert!(!o.status.success());
}
