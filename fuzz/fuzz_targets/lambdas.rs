//! `--lambda` text (a list or lo:hi:k ranges) and `--models`: never a panic; an accepted path is
//! non-empty, at most MAX_LAMBDAS long, and its check either passes (finite, > 0) or names --lambda.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onestep::pipeline::config::{MAX_LAMBDAS, check_lambdas, parse_lambdas, parse_models};

fuzz_target!(|text: &str| {
    if let Ok(path) = parse_lambdas(text) {
        assert!(!path.is_empty() && path.len() <= MAX_LAMBDAS);
        match check_lambdas(&path) {
            Ok(()) => assert!(path.iter().all(|l| l.is_finite() && *l > 0.0)),
            Err(e) => assert!(e.to_string().starts_with("--lambda")),
        }
    }
    if let Err(e) = parse_models(&[text.to_string()]) {
        assert!(e.to_string().starts_with("--models"));
    }
});
