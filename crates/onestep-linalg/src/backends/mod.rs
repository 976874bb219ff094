//! Backend implementations, one module per library, each behind its cargo feature, and the one
//! registry of them: [`BackendKind`] (names, cargo features, parsing `--backend`), [`Dispatch`]
//! (a backend chosen at run time) and the macros [`on_backend!`](crate::on_backend) and
//! [`for_each_backend!`](crate::for_each_backend). Nothing outside this file lists the backends.
//!
//! Adding a backend touches its module file here, this file (a `BackendKind` variant and its arms,
//! a `Dispatch` variant and its arm in [`Dispatch::new`], one `__backend_*` macro pair in the
//! chain below), this crate's `Cargo.toml` (feature and optional dependencies) and the facade
//! feature in the root `Cargo.toml`.
//!
//! # Why the macros chain
//!
//! `#[cfg(feature = …)]` inside an exported macro is evaluated in the crate that *calls* it,
//! whose features need not be this crate's. So each backend has a pair of `__backend_*` macros,
//! one defined when its feature is on here (it appends the backend to a list) and one when it is
//! off (it passes the list on). [`on_backend!`](crate::on_backend) and
//! [`for_each_backend!`](crate::for_each_backend) run the chain and expand over the backends
//! this crate was compiled with.
use std::fmt;
use std::str::FromStr;

#[cfg(feature = "faer")]
mod faer;
#[cfg(feature = "nalgebra")]
mod nalgebra;
#[cfg(feature = "openblas")]
mod openblas;

#[cfg(feature = "faer")]
pub use self::faer::FaerBackend;
#[cfg(feature = "nalgebra")]
pub use self::nalgebra::NalgebraBackend;
#[cfg(feature = "openblas")]
pub use self::openblas::OpenBlasBackend;

/// Every backend this crate knows, compiled in or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackendKind {
    /// faer: pure Rust, SIMD, rayon-parallel (the default).
    Faer,
    /// nalgebra: pure Rust, products split into parallel strips.
    Nalgebra,
    /// ndarray + the system OpenBLAS.
    OpenBlas,
}

impl BackendKind {
    /// Every backend, in the order they are listed, benchmarked and tested.
    pub const ALL: [BackendKind; 3] = [
        BackendKind::Faer,
        BackendKind::Nalgebra,
        BackendKind::OpenBlas,
    ];

    /// The backend used when none is named (`--backend`'s default).
    pub const DEFAULT: BackendKind = BackendKind::Faer;

    /// The name used by `--backend` and recorded in outputs ([`crate::Backend::name`]).
    pub const fn name(self) -> &'static str {
        match self {
            BackendKind::Faer => "faer",
            BackendKind::Nalgebra => "nalgebra",
            BackendKind::OpenBlas => "openblas",
        }
    }

    /// The cargo feature (of this crate and of the `onestep` facade) that compiles it in.
    pub fn feature(self) -> &'static str {
        match self {
            BackendKind::Faer => "faer",
            BackendKind::Nalgebra => "nalgebra",
            BackendKind::OpenBlas => "openblas",
        }
    }

    /// Whether this build has it.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Faer => cfg!(feature = "faer"),
            BackendKind::Nalgebra => cfg!(feature = "nalgebra"),
            BackendKind::OpenBlas => cfg!(feature = "openblas"),
        }
    }

    /// The compiled-in backends, in [`BackendKind::ALL`] order.
    pub fn compiled() -> impl Iterator<Item = BackendKind> {
        Self::ALL.into_iter().filter(|k| k.is_compiled())
    }

    /// The backend called `name`, compiled in or not.
    pub fn from_name(name: &str) -> Option<BackendKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--backend` value that names no compiled-in backend (the messages name the flag).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// A known backend whose feature is off in this build.
    #[error("--backend {} was not compiled in; rebuild with `--features {}`", .0.name(), .0.feature())]
    NotCompiled(BackendKind),
    /// No backend has this name.
    #[error("--backend: got {0}; allowed: {list} (each behind its cargo feature)", list = names())]
    Unknown(String),
}

/// `faer, nalgebra, openblas`.
fn names() -> String {
    BackendKind::ALL
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a backend name; fails (one line) unless it names a compiled-in backend.
impl FromStr for BackendKind {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match BackendKind::from_name(s) {
            Some(k) if k.is_compiled() => Ok(k),
            Some(k) => Err(BackendError::NotCompiled(k)),
            None => Err(BackendError::Unknown(s.to_string())),
        }
    }
}

/// A backend chosen at run time, one variant per compiled-in backend; run generic code on it with
/// [`on_backend!`](crate::on_backend).
#[derive(Clone, Debug)]
pub enum Dispatch {
    /// [`FaerBackend`].
    #[cfg(feature = "faer")]
    Faer(FaerBackend),
    /// [`NalgebraBackend`].
    #[cfg(feature = "nalgebra")]
    Nalgebra(NalgebraBackend),
    /// [`OpenBlasBackend`].
    #[cfg(feature = "openblas")]
    OpenBlas(OpenBlasBackend),
}

impl Dispatch {
    /// The backend `kind` with `threads` threads (0: all of the global rayon pool), as its own
    /// `new(threads)` builds it; `Err(NotCompiled)` if this build lacks it.
    #[cfg_attr(
        not(any(feature = "faer", feature = "nalgebra", feature = "openblas")),
        allow(unused_variables)
    )]
    pub fn new(kind: BackendKind, threads: usize) -> Result<Dispatch, BackendError> {
        match kind {
            #[cfg(feature = "faer")]
            BackendKind::Faer => Ok(Dispatch::Faer(FaerBackend::new(threads))),
            #[cfg(feature = "nalgebra")]
            BackendKind::Nalgebra => Ok(Dispatch::Nalgebra(NalgebraBackend::new(threads))),
            #[cfg(feature = "openblas")]
            BackendKind::OpenBlas => Ok(Dispatch::OpenBlas(OpenBlasBackend::new(threads))),
            #[allow(unreachable_patterns)] // reachable only when a feature is off
            k => Err(BackendError::NotCompiled(k)),
        }
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        match *self {
            #[cfg(feature = "faer")]
            Dispatch::Faer(_) => BackendKind::Faer,
            #[cfg(feature = "nalgebra")]
            Dispatch::Nalgebra(_) => BackendKind::Nalgebra,
            #[cfg(feature = "openblas")]
            Dispatch::OpenBlas(_) => BackendKind::OpenBlas,
            // With no backend feature the enum is empty and this match has no arms.
        }
    }
}

/// Runs `body` with `b` bound (by value) to the backend inside a [`Dispatch`], monomorphised per
/// compiled-in backend:
///
/// ```
/// # #[cfg(feature = "openblas")] extern crate blas_src; // the BLAS provider, as a binary links it
/// use onestep_linalg::{Backend, BackendKind, Dispatch, on_backend};
/// let d = Dispatch::new(BackendKind::Faer, 1).unwrap();
/// assert_eq!(on_backend!(d, |b| b.name()), "faer");
/// ```
#[macro_export]
macro_rules! on_backend {
    ($dispatch:expr, |$b:ident| $body:expr) => {
        $crate::__backends! { __on_backend_match!(($dispatch) $b ($body)) }
    };
}

/// Invokes `m!(module, Type)` once per compiled-in backend, in [`BackendKind::ALL`] order:
/// `module` is an identifier naming the backend (`faer`), `Type` a path to its type. The
/// conformance tests use it to expand the suite for every backend.
#[macro_export]
macro_rules! for_each_backend {
    ($m:ident) => {
        $crate::__backends! { __for_each_backend_call!($m) }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __on_backend_match {
    (($dispatch:expr) $b:ident ($body:expr) $(($variant:ident, $module:ident, $ty:ident))*) => {
        match $dispatch {
            $($crate::backends::Dispatch::$variant($b) => $body,)*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __for_each_backend_call {
    ($m:ident $(($variant:ident, $module:ident, $ty:ident))*) => {
        $($m!($module, $crate::backends::$ty);)*
    };
}

/// `__backends!(cb!(args))` expands to `$crate::cb!(args (Variant, module, Type)…)` with the
/// compiled-in backends: the start of the chain (see the module docs).
#[doc(hidden)]
#[macro_export]
macro_rules! __backends {
    ($cb:ident!($($args:tt)*)) => {
        $crate::__backend_faer! { [$cb ($($args)*)] [] }
    };
}

#[cfg(feature = "faer")]
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_faer {
    ($cb:tt [$($acc:tt)*]) => {
        $crate::__backend_nalgebra! { $cb [$($acc)* (Faer, faer, FaerBackend)] }
    };
}
#[cfg(not(feature = "faer"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_faer {
    ($cb:tt [$($acc:tt)*]) => {
        $crate::__backend_nalgebra! { $cb [$($acc)*] }
    };
}

#[cfg(feature = "nalgebra")]
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_nalgebra {
    ($cb:tt [$($acc:tt)*]) => {
        $crate::__backend_openblas! { $cb [$($acc)* (Nalgebra, nalgebra, NalgebraBackend)] }
    };
}
#[cfg(not(feature = "nalgebra"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_nalgebra {
    ($cb:tt [$($acc:tt)*]) => {
        $crate::__backend_openblas! { $cb [$($acc)*] }
    };
}

#[cfg(feature = "openblas")]
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_openblas {
    ($cb:tt [$($acc:tt)*]) => {
        $crate::__backends_end! { $cb [$($acc)* (OpenBlas, openblas, OpenBlasBackend)] }
    };
}
#[cfg(not(feature = "openblas"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_openblas {
    ($cb:tt [$($acc:tt)*]) => {
        $crate::__backends_end! { $cb [$($acc)*] }
    };
}

/// The end of the chain: hands the list to the callback.
#[doc(hidden)]
#[macro_export]
macro_rules! __backends_end {
    ([$cb:ident ($($args:tt)*)] [$($acc:tt)*]) => {
        $crate::$cb! { $($args)* $($acc)* }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;

    #[test]
    fn names_parse_back_and_match_the_backends() {
        for k in BackendKind::ALL {
            assert_eq!(BackendKind::from_name(k.name()), Some(k));
            match k.name().parse::<BackendKind>() {
                Ok(p) => {
                    assert!(k.is_compiled());
                    assert_eq!(p, k);
                    let d = Dispatch::new(k, 1).unwrap();
                    assert_eq!(d.kind(), k);
                    assert_eq!(crate::on_backend!(d, |b| b.name()), k.name());
                }
                Err(e) => {
                    assert!(!k.is_compiled());
                    assert_eq!(e, BackendError::NotCompiled(k));
                    assert!(Dispatch::new(k, 1).is_err());
                }
            }
        }
        assert_eq!(
            "foo".parse::<BackendKind>().unwrap_err().to_string(),
            "--backend: got foo; allowed: faer, nalgebra, openblas (each behind its cargo feature)"
        );
        assert_eq!(
            BackendError::NotCompiled(BackendKind::Nalgebra).to_string(),
            "--backend nalgebra was not compiled in; rebuild with `--features nalgebra`"
        );
    }

    #[test]
    fn the_macros_cover_exactly_the_compiled_backends() {
        let mut seen = Vec::new();
        macro_rules! record {
            ($module:ident, $ty:ty) => {
                seen.push(<$ty>::new(1).name());
            };
        }
        crate::for_each_backend!(record);
        let want: Vec<&str> = BackendKind::compiled().map(BackendKind::name).collect();
        assert_eq!(seen, want);
    }
}
