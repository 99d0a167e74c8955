//! Charts drawn with plotters-canvas on a page canvas (wasm32 only).
//!
//! Each function takes the canvas element and plain data; it draws the whole chart anew.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// Why a chart could not be drawn.
fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// The loss chart: L_CFM, the exact L_FM and their difference against steps, log scale, with
/// axis titles. Its legend, with the current values, is HTML beside the canvas (so it never
/// covers a curve). The three slices have one value per reported step.
pub fn loss_chart(
    canvas: HtmlCanvasElement,
    steps: &[f32],
    cfm: &[f32],
    fm: &[f32],
    gap: f32,
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or_else(|| err("no 2d context"))?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = steps.len().min(cfm.len()).min(fm.len());
    let diff: Vec<f32> = (0..n).map(|i| cfm[i] - fm[i]).collect();
    let positive = |v: &&f32| v.is_finite() && **v > 0.0;
    let gaps = [gap];
    let all = cfm[..n].iter().chain(&fm[..n]).chain(&diff).chain(&gaps);
    let lo = all
        .clone()
        .filter(positive)
        .fold(f32::INFINITY, |a, b| a.min(*b));
    let hi = all.filter(positive).fold(0.0f32, |a, b| a.max(*b));
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo * 0.8, hi * 1.25)
    } else {
        (0.1, 10.0)
    };
    // Before training there is no step yet: show the first hundred, not "0 0 1".
    let x_max = steps
        .get(n.wrapping_sub(1))
        .copied()
        .unwrap_or(0.0)
        .max(100.0);
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(52)
        // The y axis is linear in log10(loss), labelled with the loss itself: evenly spaced
        // ticks (plotters' own log axis crowds the top of each decade).
        .build_cartesian_2d(0f32..x_max, lo.log10()..hi.log10())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(6)
        // Enough ticks to read values off, few enough that a log axis's top decade does not crowd.
        .y_labels(if n == 0 { 3 } else { 6 })
        .x_desc("training step")
        .y_desc("loss (log scale)")
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(236, 236, 236))
        .label_style(("sans-serif", 11))
        .x_label_formatter(&|v| format_count(*v))
        .y_label_formatter(&|v| format_loss(10f32.powf(*v)))
        .draw()
        .map_err(err)?;
    // The colours of the HTML legend (www/chart.js): L_CFM, L_FM, their difference.
    let series: [(&[f32], RGBColor); 3] = [
        (&cfm[..n], RGBColor(232, 89, 12)),
        (&fm[..n], RGBColor(25, 113, 194)),
        (&diff, RGBColor(90, 90, 90)),
    ];
    for (values, color) in series {
        let points = steps
            .iter()
            .zip(values)
            .filter(|(_, v)| v.is_finite() && **v > 0.0)
            .map(|(s, v)| (*s, v.log10()));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(err)?;
    }
    // C, the floor of L_CFM (dashed, in the colour of the difference it is the mean of).
    if gap.is_finite() && gap > 0.0 {
        let dashes = (0..40).map(|k| {
            let a = x_max * k as f32 / 40.0;
            PathElement::new(
                vec![(a, gap.log10()), (a + x_max / 80.0, gap.log10())],
                RGBColor(90, 90, 90).stroke_width(2),
            )
        });
        chart.draw_series(dashes).map_err(err)?;
    }
    root.present().map_err(err)
}

/// A step count for an axis: 1200 -> "1.2k".
fn format_count(v: f32) -> String {
    if v >= 1000.0 {
        format!("{}k", (v / 100.0).round() / 10.0)
    } else {
        format!("{v:.0}")
    }
}

/// A loss value for a log axis, with two significant digits.
fn format_loss(v: f32) -> String {
    if v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        let digits = (-v.log10().floor()) as usize + 1;
        format!("{v:.digits$}")
    }
}

/// The schedule chart: `alpha_t` and `beta_t` of `schedule` over `[0, 1]`, with a marker at
/// the current time `t`.
pub fn schedule_chart(
    canvas: HtmlCanvasElement,
    schedule: crate::path::Schedule,
    t: f64,
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or_else(|| err("no 2d context"))?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(6)
        .x_label_area_size(18)
        .y_label_area_size(28)
        .build_cartesian_2d(0f64..1f64, 0f64..1.05f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(3)
        .y_labels(3)
        .light_line_style(RGBColor(240, 240, 240))
        .label_style(("sans-serif", 10))
        .draw()
        .map_err(err)?;
    let grid = || (0..=100).map(|k| f64::from(k) / 100.0);
    type Curve = fn(crate::path::Schedule, f64) -> f64;
    let curves: [(&str, RGBColor, Curve); 2] = [
        (
            "alpha_t",
            RGBColor(232, 89, 12),
            crate::path::Schedule::alpha,
        ),
        (
            "beta_t",
            RGBColor(25, 113, 194),
            crate::path::Schedule::beta,
        ),
    ];
    for (label, color, curve) in curves {
        let f = |s: f64| curve(schedule, s);
        chart
            .draw_series(LineSeries::new(
                grid().map(|s| (s, f(s))),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2))
            });
        chart
            .draw_series(std::iter::once(Circle::new((t, f(t)), 3, color.filled())))
            .map_err(err)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(t, 0.0), (t, 1.05)],
            RGBColor(150, 150, 150),
        )))
        .map_err(err)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(220, 220, 220))
        .label_font(("sans-serif", 10))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// The colours of the W2 chart's noise levels (the HTML legend in `www/lessons/diffusion/page.js`
/// uses the same, in the same order): grey for the ODE, then blue, green, purple.
pub const SIGMA_COLORS: [RGBColor; 4] = [
    RGBColor(90, 90, 90),
    RGBColor(25, 113, 194),
    RGBColor(47, 158, 68),
    RGBColor(132, 94, 247),
];

/// "Does noise repair the network?": W2 between learned SDE samples at `t = 1` and the
/// drawing, against training steps, one line per noise level. `w2` holds `sigmas` values per
/// entry of `steps` (row-major); non-finite values are skipped.
pub fn w2_sigma_chart(
    canvas: HtmlCanvasElement,
    steps: &[f32],
    w2: &[f32],
    sigmas: usize,
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or_else(|| err("no 2d context"))?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let k = sigmas.clamp(1, SIGMA_COLORS.len());
    let n = steps.len().min(w2.len() / k);
    let hi = w2[..n * k]
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |a, b| a.max(*b));
    let hi = if hi > 0.0 { hi * 1.15 } else { 1.0 };
    let x_lo = steps.first().copied().unwrap_or(0.0);
    let x_hi = steps
        .get(n.wrapping_sub(1))
        .copied()
        .unwrap_or(0.0)
        .max(x_lo + 100.0);
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(x_lo..x_hi, 0f32..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(5)
        .x_desc("training step")
        .y_desc("W2 to the drawing")
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(236, 236, 236))
        .label_style(("sans-serif", 11))
        .x_label_formatter(&|v| format_count(*v))
        .draw()
        .map_err(err)?;
    for (j, color) in SIGMA_COLORS.iter().enumerate().take(k) {
        let points = (0..n).map(|i| (steps[i], w2[i * k + j]));
        line_with_dots(&mut chart, points, *color)?;
    }
    root.present().map_err(err)
}

/// A line through the finite points of `points`, with a dot on each, in `color`.
fn line_with_dots<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf32, plotters::coord::types::RangedCoordf32>,
    >,
    points: impl Iterator<Item = (f32, f32)>,
    color: RGBColor,
) -> Result<(), String> {
    let points: Vec<(f32, f32)> = points.filter(|(_, v)| v.is_finite()).collect();
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(2),
        ))
        .map_err(err)?;
    chart
        .draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))
        .map_err(err)?;
    Ok(())
}

/// The NFE chart: sample quality (`w2`, W2 to the drawing) against the number of Euler steps
/// `steps` (a log2 axis), one line per model (`w2`: `steps.len()` values per model, model after
/// model; NaN values are left out) in the colour `rgb[3 j..3 j + 3]` of model `j` (grey when
/// missing).
pub fn nfe_chart(
    canvas: HtmlCanvasElement,
    steps: &[f32],
    w2: &[f32],
    rgb: &[u8],
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or_else(|| err("no 2d context"))?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let k = steps.len().max(1);
    let models = w2.len() / k;
    let hi = w2
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |a, b| a.max(*b));
    let hi = if hi > 0.0 { hi * 1.1 } else { 1.0 };
    let x_hi = steps.iter().fold(1.0f32, |a, b| a.max(b.log2()));
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(-0.2f32..x_hi + 0.2, 0f32..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(steps.len().max(2))
        .y_labels(5)
        .x_desc("Euler steps (NFE)")
        .y_desc("W2 to the drawing")
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(236, 236, 236))
        .label_style(("sans-serif", 11))
        .x_label_formatter(&|v| format!("{}", v.exp2().round()))
        .draw()
        .map_err(err)?;
    for j in 0..models {
        let color = match rgb.get(3 * j..3 * j + 3) {
            Some(c) => RGBColor(c[0], c[1], c[2]),
            None => RGBColor(120, 120, 120),
        };
        let points = (0..steps.len()).map(|i| (steps[i].log2(), w2[j * k + i]));
        line_with_dots(&mut chart, points, color)?;
    }
    root.present().map_err(err)
}

/// The Langevin density check: a histogram of the particles' first coordinate (`xs`, bars,
/// normalised to a density over `bins` bins on `[lo, hi]`) against the exact marginal density
/// of `x` under `p_t` (`curve`, values at the bin centres: a line).
pub fn density_chart(
    canvas: HtmlCanvasElement,
    xs: &[f32],
    curve: &[f32],
    lo: f32,
    hi: f32,
) -> Result<(), String> {
    let backend = CanvasBackend::with_canvas_object(canvas).ok_or_else(|| err("no 2d context"))?;
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let bins = curve.len().max(1);
    let width = (hi - lo) / bins as f32;
    let mut counts = vec![0f32; bins];
    for x in xs.iter().filter(|v| v.is_finite()) {
        let b = ((x - lo) / width).floor();
        if b >= 0.0 && (b as usize) < bins {
            counts[b as usize] += 1.0;
        }
    }
    let scale = 1.0 / (xs.len().max(1) as f32 * width);
    let top = counts
        .iter()
        .map(|c| c * scale)
        .chain(curve.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f32, f32::max)
        .max(1e-3)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(44)
        .build_cartesian_2d(lo..hi, 0f32..top)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(7)
        .y_labels(4)
        .x_desc("x (first coordinate)")
        .y_desc("density")
        .axis_desc_style(("sans-serif", 12))
        .light_line_style(RGBColor(236, 236, 236))
        .label_style(("sans-serif", 11))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, c)| {
            let a = lo + i as f32 * width;
            Rectangle::new(
                [(a, 0.0), (a + width, c * scale)],
                RGBColor(25, 113, 194).mix(0.45).filled(),
            )
        }))
        .map_err(err)?;
    let line = curve
        .iter()
        .enumerate()
        .map(|(i, v)| (lo + (i as f32 + 0.5) * width, *v));
    chart
        .draw_series(LineSeries::new(line, RGBColor(31, 41, 55).stroke_width(2)))
        .map_err(err)?;
    root.present().map_err(err)
}
