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
