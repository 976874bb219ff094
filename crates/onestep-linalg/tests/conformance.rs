//! Runs the conformance suite against every backend compiled in (the list is
//! `onestep_linalg::for_each_backend!`, next to `BackendKind`; test names stay `<backend>::<check>`).
#[cfg(feature = "openblas")]
extern crate blas_src;

macro_rules! suite {
    ($module:ident, $ty:ty) => {
        onestep_linalg::conformance_tests!($module, <$ty>::new(2));
    };
}

onestep_linalg::for_each_backend!(suite);
