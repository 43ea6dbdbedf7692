//! Readable text on coloured frames: WCAG 2 contrast, and the label colour
//! (near-black or white) that reads best on a fill.

/// A colour's relative luminance (WCAG 2, sRGB).
pub fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// The contrast ratio of two colours (1 to 21).
pub fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Black or white, whichever reads better on `fill` (at least 4.58:1 on any fill).
pub fn label_color(fill: (u8, u8, u8)) -> (u8, u8, u8) {
    const BLACK: (u8, u8, u8) = (0, 0, 0);
    const WHITE: (u8, u8, u8) = (255, 255, 255);
    if contrast(fill, BLACK) >= contrast(fill, WHITE) {
        BLACK
    } else {
        WHITE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Category;

    #[test]
    fn every_fill_gets_a_readable_label() {
        assert!((contrast((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 1e-9);
        assert_eq!(label_color((0, 0, 255)), (255, 255, 255), "strong blue takes white");
        assert_eq!(label_color((255, 0, 0)), (0, 0, 0), "strong red takes black");
        // Every fill of a differential flame graph (red and blue ramps), every category, and a sweep.
        let mut fills: Vec<(u8, u8, u8)> = (0..=255).flat_map(|f| [(255, f, f), (f, f, 255)]).collect();
        fills.extend(Category::ALL.iter().map(|c| c.color()));
        fills.extend((0..=255u8).step_by(5).flat_map(|r| (0..=255u8).step_by(15).map(move |g| (r, g, 128))));
        for f in fills {
            let c = contrast(f, label_color(f));
            assert!(c >= 4.5, "{f:?}: {c:.2}");
        }
    }
}
