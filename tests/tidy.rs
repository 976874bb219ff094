//! Repository hygiene, checked on every `cargo test`: every Rust source opens with a `//!` line
//! saying what it is for, nothing cites a document outside the repository, and no test is
//! switched off with `#[ignore]` (slow checks run under `ONESTEP_SLOW=1` instead).
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` with one of `exts`, skipping build outputs and hidden folders.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !(name.starts_with('.') || name == "target" || name == "out") {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

fn sources(exts: &[&str]) -> Vec<(PathBuf, String)> {
    let mut v = Vec::new();
    for top in [
        "src", "crates", "tests", "benches", "xtask", "docs", "examples", "configs",
    ] {
        files(&root().join(top), exts, &mut v);
    }
    if exts.contains(&".md") {
        v.extend(["README.md", "ARCHITECTURE.md"].map(|f| root().join(f)));
    }
    v.sort();
    v.into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|s| (p, s)))
        .collect()
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn every_rust_file_opens_with_a_module_doc_line() {
    let bad: Vec<String> = sources(&[".rs"])
        .into_iter()
        .filter(|(_, s)| !s.trim_start().starts_with("//!"))
        .map(|(p, _)| rel(&p))
        .collect();
    assert!(
        bad.is_empty(),
        "files without a leading `//!` line: {bad:?}"
    );
}

#[test]
fn no_citation_of_documents_outside_the_repository() {
    // The project's own documents live under docs/; the sources they were written from do not
    // ship with the repository, so nothing may point at them.
    let banned = ["science.md", "performance.md", "style.md", "shared/spec"];
    let mut bad = Vec::new();
    for (p, s) in sources(&[".rs", ".md", ".py", ".toml", ".pyi", "run"]) {
        if rel(&p) == "tests/tidy.rs" {
            continue;
        }
        for (i, line) in s.lines().enumerate() {
            for b in banned {
                let cited = line.match_indices(b).any(|(at, _)| {
                    // `docs/performance.md` is ours; a bare `performance.md` is not.
                    !line[..at].ends_with("docs/")
                });
                if cited {
                    bad.push(format!("{}:{}: {}", rel(&p), i + 1, line.trim()));
                }
            }
        }
        // `figures.md` is fine only as docs/figures.md.
        for (i, line) in s.lines().enumerate() {
            if line
                .match_indices("figures.md")
                .any(|(at, _)| !line[..at].ends_with("docs/"))
            {
                bad.push(format!("{}:{}: {}", rel(&p), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "citations of documents outside the repository:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_cited_docs_file_exists() {
    let mut bad = Vec::new();
    for (p, s) in sources(&[".rs", ".md", ".py", ".toml"]) {
        for (at, _) in s.match_indices("docs/") {
            let tail: String = s[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || "/_-.".contains(*c))
                .collect();
            let tail = tail.trim_end_matches('.');
            if tail.ends_with(".md") && !root().join(tail).is_file() {
                bad.push(format!("{}: {tail}", rel(&p)));
            }
        }
    }
    assert!(bad.is_empty(), "citations of missing docs: {bad:?}");
}

#[test]
fn no_ignored_tests() {
    let attr = ["#[", "ignore"].concat();
    let bad: Vec<String> = sources(&[".rs"])
        .into_iter()
        .filter(|(p, s)| rel(p) != "tests/tidy.rs" && s.contains(&attr))
        .map(|(p, _)| rel(&p))
        .collect();
    assert!(
        bad.is_empty(),
        "tests switched off with an ignore attribute: {bad:?}"
    );
}
