//! PNG output (the `png` feature): the SVG rasterised with `resvg`, text set in the system
//! fonts. This is the only place in the crate that reads files: the font set, once per process.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use crate::Figure;

/// Failure to rasterise a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The scale factor must be finite and positive.
    #[error("PNG scale must be a finite positive number (got {scale}); pass e.g. 1.0 or 2.0")]
    InvalidScale {
        /// The rejected scale.
        scale: f32,
    },
    /// The requested image is empty or too large to allocate.
    #[error("cannot allocate a {width}×{height} pixel image; use a smaller scale or fewer panels")]
    ImageSize {
        /// Requested width in pixels.
        width: u32,
        /// Requested height in pixels.
        height: u32,
    },
    /// The generated SVG did not parse (a bug in this crate).
    #[error("generated SVG could not be parsed: {message}")]
    Svg {
        /// The parser's message.
        message: String,
    },
    /// The font set has no face at all, so the PNG would render without any text.
    #[error(
        "no system fonts found for PNG text; install a TrueType font (Debian: apt-get install fonts-dejavu-core) or use the SVG"
    )]
    NoFonts,
    /// PNG encoding failed.
    #[error("PNG encoding failed: {message}")]
    Encode {
        /// The encoder's message.
        message: String,
    },
}

impl Figure {
    /// The figure rasterised to PNG; `scale` multiplies the SVG size (2.0 gives print resolution).
    ///
    /// Text is set in the system fonts (see the crate docs); without any font installed this
    /// fails with [`PlotError::NoFonts`].
    pub fn to_png(&self, scale: f32) -> Result<Vec<u8>, PlotError> {
        svg_to_png(&self.to_svg(), scale, system_fonts())
    }
}

/// System fonts (and the Debian DejaVu directory when DejaVu Sans is not among them), loaded
/// once per process. DejaVu Sans is the preferred sans-serif face; without it, the first family
/// found stands in. The set may be empty: [`require_fonts`] turns that into an error.
fn system_fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            let has = |db: &usvg::fontdb::Database, name: &str| {
                db.faces()
                    .any(|f| f.families.iter().any(|(fam, _)| fam == name))
            };
            if !has(&db, "DejaVu Sans") {
                db.load_fonts_dir("/usr/share/fonts/truetype/dejavu");
            }
            if has(&db, "DejaVu Sans") {
                db.set_sans_serif_family("DejaVu Sans");
            } else {
                let first = db
                    .faces()
                    .find_map(|f| f.families.first().map(|(fam, _)| fam.clone()));
                if let Some(family) = first {
                    db.set_sans_serif_family(family);
                }
            }
            Arc::new(db)
        })
        .clone()
}

/// Fails with [`PlotError::NoFonts`] when `fonts` holds no face at all.
fn require_fonts(fonts: &usvg::fontdb::Database) -> Result<(), PlotError> {
    if fonts.is_empty() {
        return Err(PlotError::NoFonts);
    }
    Ok(())
}

/// Rasterises an SVG document with the given fonts; fails with [`PlotError::NoFonts`] when the
/// font set is empty rather than drawing a picture without text.
fn svg_to_png(
    svg: &str,
    scale: f32,
    fonts: Arc<usvg::fontdb::Database>,
) -> Result<Vec<u8>, PlotError> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(PlotError::InvalidScale { scale });
    }
    require_fonts(&fonts)?;
    let options = usvg::Options {
        fontdb: fonts,
        font_family: "DejaVu Sans".to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| PlotError::Svg {
        message: e.to_string(),
    })?;
    let size = tree.size();
    let w = (f64::from(size.width()) * f64::from(scale)).ceil();
    let h = (f64::from(size.height()) * f64::from(scale)).ceil();
    let clamp = |v: f64| {
        if v.is_finite() && v >= 0.0 && v <= f64::from(u32::MAX) {
            v as u32
        } else {
            0
        }
    };
    let (width, height) = (clamp(w), clamp(h));
    let mut pixmap = (width <= 32_768 && height <= 32_768)
        .then(|| tiny_skia::Pixmap::new(width, height))
        .flatten()
        .ok_or(PlotError::ImageSize { width, height })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| PlotError::Encode {
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{degenerate_panels, demo_figure};

    #[test]
    fn empty_and_degenerate_figures_rasterise() {
        let png = Figure::default().to_png(1.0).expect("empty figure renders");
        assert!(png.starts_with(b"\x89PNG"));
        let png = Figure {
            panels: degenerate_panels(),
            columns: 3,
            ..Figure::default()
        }
        .to_png(0.5)
        .expect("renders");
        assert!(png.starts_with(b"\x89PNG"));
    }

    #[test]
    fn png_renders_with_magic_bytes_and_size() {
        let fig = demo_figure();
        let png = fig.to_png(1.0).expect("renders");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        // IHDR width and height (big endian) match the SVG size.
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        let (sw, sh) = fig.size();
        assert_eq!((w, h), (sw.ceil() as u32, sh.ceil() as u32));
        assert!(
            png.len() > 10_000,
            "suspiciously small PNG: {} bytes",
            png.len()
        );
        let big = fig.to_png(2.0).expect("renders at 2×");
        let w2 = u32::from_be_bytes(big[16..20].try_into().unwrap());
        assert_eq!(w2, 2 * w);
        if let Ok(path) = std::env::var("ONESTEP_PLOT_DEMO") {
            // Tests do IO only when asked, to look at the picture: ONESTEP_PLOT_DEMO=/tmp/plot-demo.png
            std::fs::write(path, &png).expect("write demo PNG");
        }
    }

    #[test]
    fn png_without_fonts_is_an_error_that_says_what_to_do() {
        let empty = Arc::new(usvg::fontdb::Database::new());
        assert!(matches!(require_fonts(&empty), Err(PlotError::NoFonts)));
        let svg = demo_figure().to_svg();
        let err = svg_to_png(&svg, 0.5, empty.clone()).expect_err("no text without fonts");
        assert!(matches!(err, PlotError::NoFonts));
        let message = err.to_string();
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(
            message.contains("install") && message.contains("SVG"),
            "{message}"
        );
        // A bad scale is still reported as such, whatever the fonts.
        assert!(matches!(
            svg_to_png(&svg, f32::NAN, empty),
            Err(PlotError::InvalidScale { .. })
        ));
    }

    #[test]
    fn bad_scale_is_an_error_not_a_panic() {
        let fig = demo_figure();
        for scale in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(
                fig.to_png(scale),
                Err(PlotError::InvalidScale { .. })
            ));
        }
        assert!(matches!(fig.to_png(1e6), Err(PlotError::ImageSize { .. })));
    }
}
