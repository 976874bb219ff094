//! Runs the conformance suite against every backend compiled in.
#[cfg(feature = "faer")]
onestep_linalg::conformance_tests!(faer, onestep_linalg::FaerBackend::new(2));
#[cfg(feature = "nalgebra")]
onestep_linalg::conformance_tests!(nalgebra, onestep_linalg::NalgebraBackend::new(2));
#[cfg(feature = "openblas")]
onestep_linalg::conformance_tests!(openblas, onestep_linalg::OpenBlasBackend::new(2));
