//! The figure registry: the one list of figures ([`FIGURES`], from each module's `INFO`),
//! dispatch by id ([`run`]), and the options every figure takes ([`Options`]).
//!
//! The list itself is the `registry!` invocation in `figures/mod.rs`: adding a figure is its
//! module file (with `INFO` and `run`) and one line there.
use crate::FigureError;
use crate::options::{FigureInfo, Options};
use crate::points::Ctx;
use crate::table::FigureData;
use onestep_linalg::Backend;

pub use crate::figures::FIGURES;
use crate::figures::dispatch;

/// Looks a figure up by id.
pub fn info(id: &str) -> Option<&'static FigureInfo> {
    FIGURES.iter().find(|f| f.id == id)
}

/// The figure `id`, or the one-line message for an unknown id (with the closest id).
pub fn lookup(id: &str) -> Result<&'static FigureInfo, String> {
    info(id).ok_or_else(|| {
        let ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        format!(
            "unknown figure `{id}`; {}allowed: {} (or `list`)",
            onestep_data::suggest::did_you_mean(id, ids.iter().copied()),
            ids.join(", ")
        )
    })
}

/// Runs figure `id`.
pub fn run<B: Backend>(
    id: &str,
    b: &B,
    opts: &Options,
    ctx: &mut Ctx<'_>,
) -> Result<FigureData, FigureError> {
    let mut data = dispatch(id, b, opts, ctx)?;
    let fi = info(id).expect("registered");
    data.manifest.id = fi.id.into();
    data.manifest.paper = fi.paper.into();
    data.manifest.description = fi.description.into();
    data.manifest.quick = opts.quick;
    data.manifest.points_computed = ctx.computed;
    data.manifest.points_cached = ctx.cached;
    data.manifest.compute_seconds = ctx.compute_seconds;
    data.manifest.grid = opts.grid_used(fi);
    if opts.quick {
        // What quick mode cannot show, on the picture.
        let quick = "Quick mode: small sizes and few seeds, for a look in seconds; finite-size gaps to the theory are larger here and do not shrink reliably with n. Run without --quick for the figure's claims.";
        data.figure.caption = Some(match data.figure.caption.take() {
            Some(c) => format!("{c} {quick}"),
            None => quick.into(),
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::helpers::threshold_label;

    #[test]
    fn registry_is_complete() {
        for f in FIGURES {
            assert_eq!(info(f.id).map(|i| i.id), Some(f.id));
        }
        let mut ids: Vec<&str> = FIGURES.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FIGURES.len(), "figure ids are unique");
        assert!(info("no-such-figure").is_none());
        assert_eq!(threshold_label(4), "k=4: 3/8");
        assert_eq!(threshold_label(2), "k=2: 1/4");
    }
}
