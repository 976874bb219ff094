//! Runs the conformance suite against every backend compiled in.
#[cfg(feature = "faer")]
onestep_linalg::conformance_tests!(faer, onestep_linalg::FaerBackend::new(2));
