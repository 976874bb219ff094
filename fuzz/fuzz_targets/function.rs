//! `--activation` / `--target` text: parsing never panics; what parses prints back to text that
//! parses to the same function, and the simulation's check of it (E f(g)² bound) never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onestep::data::Func;
use onestep::pipeline::SimConfig;

fuzz_target!(|text: &str| {
    if let Ok(f) = text.parse::<Func>() {
        let again: Func = f.to_string().parse().expect("printed function parses");
        assert_eq!(again.to_string(), f.to_string());
        let cfg = SimConfig {
            d: 2,
            width: 2,
            n: 2,
            n_test: 1,
            activation: text.into(),
            target: text.into(),
            ..SimConfig::default()
        };
        let _ = cfg.check(f64::INFINITY);
    }
});
