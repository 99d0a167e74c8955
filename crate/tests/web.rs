//! Tests of the wasm surface, run in headless Chromium by `cargo xtask test`.
#![cfg(target_arch = "wasm32")]
// `#[wasm_bindgen_test]` functions are not `#[test]`s, so clippy's allow-unwrap-in-tests
// does not cover them.
#![allow(clippy::unwrap_used)]

use fmp::marginal::EmpiricalMarginal;
use fmp::path::{GaussianPath, Schedule};
use fmp::wasm::Fields;

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod common {
    pub mod gemm_check;
}
use common::gemm_check;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn preset_points_are_interleaved_and_seeded() {
    let a = fmp::wasm::preset_points("moons", 300, 5).unwrap();
    let b = fmp::wasm::preset_points("moons", 300, 5).unwrap();
    assert_eq!(a.len(), 600);
    assert_eq!(a, b);
    assert!(a.iter().all(|v| v.is_finite()));
    assert!(fmp::wasm::preset_points("nope", 3, 1).is_err());
}

/// A canvas of `w x h` pixels in the page.
fn canvas(w: u32, h: u32) -> web_sys::HtmlCanvasElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .unwrap()
        .dyn_into()
        .unwrap();
    canvas.set_width(w);
    canvas.set_height(h);
    canvas
}

/// Pixels of `canvas` whose colour is close to `rgb`.
fn pixels_like(canvas: &web_sys::HtmlCanvasElement, rgb: [u8; 3]) -> usize {
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
    let data = ctx.get_image_data(0.0, 0.0, w, h).unwrap().data();
    data.chunks_exact(4)
        .filter(|p| (0..3).all(|k| p[k].abs_diff(rgb[k]) < 40))
        .count()
}

#[wasm_bindgen_test]
fn loss_chart_draws_both_losses_in_their_colours() {
    let c = canvas(320, 200);
    let steps: Vec<f32> = (0..50).map(|k| (k * 10) as f32).collect();
    let cfm: Vec<f32> = (0..50).map(|k| 3.0 - (k as f32) / 50.0).collect();
    let fm: Vec<f32> = (0..50).map(|k| 1.0 / (1.0 + k as f32 / 10.0)).collect();
    fmp::wasm::draw_loss_chart(c.clone(), &steps, &cfm, &fm, f32::NAN).unwrap();
    assert!(
        pixels_like(&c, [232, 89, 12]) > 100,
        "the CFM line (orange)"
    );
    assert!(pixels_like(&c, [25, 113, 194]) > 100, "the FM line (blue)");
    // C, the floor of L_CFM, adds a dashed grey line: more grey pixels than without it.
    let grey_without = pixels_like(&c, [90, 90, 90]);
    fmp::wasm::draw_loss_chart(c.clone(), &steps, &cfm, &fm, 0.5).unwrap();
    assert!(
        pixels_like(&c, [90, 90, 90]) > grey_without + 50,
        "the dashed line of C"
    );
    // The schedule chart draws alpha_t and beta_t in the same colours.
    let s = canvas(170, 100);
    fmp::wasm::draw_schedule_chart(s.clone(), "cosine", 0.3).unwrap();
    assert!(pixels_like(&s, [232, 89, 12]) > 30);
    assert!(pixels_like(&s, [25, 113, 194]) > 30);
    assert!(fmp::wasm::draw_schedule_chart(s, "nope", 0.3).is_err());
}

fn as_points(flat: &[f32]) -> Vec<fmp::Point> {
    flat.chunks_exact(2)
        .map(|p| [f64::from(p[0]), f64::from(p[1])])
        .collect()
}

#[wasm_bindgen_test]
fn inspector_weights_sum_to_one_and_match_the_core() {
    let cloud = fmp::wasm::preset_points("8gaussians", 400, 3).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    fields.set_schedule("cosine").unwrap();
    let core = EmpiricalMarginal::new(as_points(&cloud), GaussianPath::new(Schedule::Cosine));
    let mut expected = vec![0.0; 400];
    for (x, y, t) in [(0.1, -0.2, 0.0), (1.0, 1.5, 0.5), (-2.0, 0.3, 0.97)] {
        let w = fields.posterior(x, y, t);
        let sum: f64 = w.iter().map(|v| f64::from(*v)).sum();
        assert!((sum - 1.0).abs() < 1e-5, "weights sum to {sum}");
        core.weights([x, y], t, &mut expected);
        for (a, b) in w.iter().zip(&expected) {
            assert!((f64::from(*a) - b).abs() < 1e-6);
        }
    }
    // t = 0: every point is equally likely.
    let w0 = fields.posterior(0.3, 0.3, 0.0);
    assert!(w0.iter().all(|v| (v - 1.0 / 400.0).abs() < 1e-6));
}

#[wasm_bindgen_test]
fn residual_grids_separate_the_exact_and_the_uniform_field() {
    let cloud = fmp::wasm::preset_points("moons", 300, 1).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    let mean_abs = |g: Vec<f32>| g.iter().map(|v| f64::from(v.abs())).sum::<f64>() / g.len() as f64;
    for t in [0.2, 0.5, 0.8] {
        let exact = mean_abs(fields.grid("residual", t, 16, 3.0).unwrap());
        let uniform = mean_abs(fields.grid("residual_uniform", t, 16, 3.0).unwrap());
        assert!(exact < 1e-6, "exact residual {exact} at t = {t}");
        assert!(
            uniform > 0.1,
            "uniform-weight residual {uniform} at t = {t}"
        );
    }
    assert!(
        fields.grid("residual_learned", 0.5, 4, 3.0).is_err(),
        "no network yet"
    );
}

#[wasm_bindgen_test]
fn a_grid_in_pieces_is_the_whole_grid() {
    let cloud = fmp::wasm::preset_points("moons", 200, 3).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    for what in ["logp", "residual_uniform"] {
        let whole = fields.grid(what, 0.6, 7, 3.0).unwrap();
        let mut pieces = Vec::new();
        // Uneven pieces, the last one running past the end (clipped).
        for (start, count) in [(0, 5), (5, 1), (6, 30), (36, 100)] {
            pieces.extend(fields.grid_cells(what, 0.6, 7, 3.0, start, count).unwrap());
        }
        assert_eq!(pieces, whole, "{what}");
        assert!(fields
            .grid_cells(what, 0.6, 7, 3.0, 60, 5)
            .unwrap()
            .is_empty());
    }
}

#[wasm_bindgen_test]
fn catalog_is_json_listing_what_the_core_parses() {
    let text = fmp::wasm::catalog();
    let value = js_sys::JSON::parse(&text).unwrap();
    let get = |v: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(v, &key.into()).unwrap();
    let presets: js_sys::Array = get(&value, "presets").dyn_into().unwrap();
    assert_eq!(presets.length(), 6);
    for p in presets.iter() {
        let id = get(&p, "id").as_string().unwrap();
        assert!(fmp::wasm::preset_points(&id, 4, 1).is_ok(), "{id}");
        assert!(!get(&p, "label").as_string().unwrap().is_empty());
    }
    let schedules: js_sys::Array = get(&value, "schedules").dyn_into().unwrap();
    for s in schedules.iter() {
        let id = get(&s, "id").as_string().unwrap();
        assert!(fmp::wasm::schedule_at(&id, 0.5).is_ok(), "{id}");
    }
    let solvers: js_sys::Array = get(&value, "solvers").dyn_into().unwrap();
    assert_eq!(solvers.length(), 4);
    let defaults = get(&value, "defaults");
    assert_eq!(get(&defaults, "width").as_f64(), Some(64.0));
    assert!(get(&defaults, "lr").as_f64().unwrap() > 0.0);
    // Every field kind, flow kind and grid it lists is one that Fields takes: without a
    // network, exactly the learned ones are refused.
    let mut fields = Fields::new();
    fields
        .set_points(&fmp::wasm::preset_points("moons", 50, 1).unwrap())
        .unwrap();
    let xs = [0.5f32, -0.25, 1.0, 2.0];
    let ids = |key: &str| -> Vec<String> {
        let list: js_sys::Array = get(&value, key).dyn_into().unwrap();
        list.iter()
            .map(|e| {
                e.as_string()
                    .unwrap_or_else(|| get(&e, "id").as_string().unwrap())
            })
            .collect()
    };
    let kinds = ids("fields");
    assert_eq!(kinds.len(), 11);
    for id in &kinds {
        let learned = id.contains("learned");
        assert_eq!(fields.velocity(id, &xs, 0.5).is_ok(), !learned, "{id}");
    }
    for id in ids("flow_fields") {
        assert_eq!(
            fields.flow_begin(&id, &xs, "euler", 4).is_ok(),
            id != "learned",
            "{id}"
        );
    }
    for id in ids("grids") {
        let learned = id == "error" || id == "residual_learned";
        assert_eq!(fields.grid(&id, 0.5, 4, 3.0).is_ok(), !learned, "{id}");
    }
    assert!(fields.velocity("curl", &xs, 0.5).is_err());
    assert!(fields.grid("curl", 0.5, 4, 3.0).is_err());
    // The limits: the page's ranges, as the core checks them.
    let limits = get(&value, "limits");
    let width = get(&limits, "width");
    assert_eq!(get(&width, "min").as_f64(), Some(4.0));
    assert_eq!(get(&width, "max").as_f64(), Some(512.0));
    assert_eq!(get(&limits, "world").as_f64(), Some(3.5));
}

#[wasm_bindgen_test]
fn conditional_velocity_is_the_core_conditional_field() {
    let mut fields = Fields::new();
    fields.set_schedule("cosine").unwrap();
    let xs = [0.5f32, -0.25, 1.0, 2.0, -3.0, 0.0];
    let (z, t) = ([1.5, -0.5], 0.4);
    let got = fields.conditional_velocity(&xs, t, z[0], z[1]).unwrap();
    let path = GaussianPath::new(Schedule::Cosine);
    for (x, u) in as_points(&xs).iter().zip(got.chunks_exact(2)) {
        let want = path.u_cond(*x, z, t);
        assert!((f64::from(u[0]) - want[0]).abs() < 1e-5 * (1.0 + want[0].abs()));
        assert!((f64::from(u[1]) - want[1]).abs() < 1e-5 * (1.0 + want[1].abs()));
    }
    // No cloud is needed, a non-finite z is refused, and velocity() points to this method.
    assert!(fields.conditional_velocity(&xs, t, f64::NAN, 0.0).is_err());
    assert!(fields.velocity("conditional", &xs, t).is_err());
    assert!(fields.flow_begin("conditional", &xs, "rk4", 4).is_err());
    assert!(fields.velocity("uniform", &xs, t).is_ok());
}

#[wasm_bindgen_test]
fn set_model_takes_trainer_weights_and_checks_their_length() {
    let cloud = fmp::wasm::preset_points("moons", 200, 2).unwrap();
    let mut trainer =
        fmp::wasm::TrainerHandle::new(&cloud, 16, 2, 1, 32, 1e-2, "linear", "independent", 3)
            .unwrap();
    trainer.train(5, false);
    let weights = trainer.weights().to_vec();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    assert!(!fields.has_model());
    assert!(fields.set_model(16, 2, 1, weights[1..].to_vec()).is_err());
    assert!(fields.set_model(0, 2, 1, Vec::new()).is_err());
    assert!(!fields.has_model());
    fields.set_model(16, 2, 1, weights).unwrap();
    assert!(fields.has_model());
    let xs = [0.1f32, 0.2, -1.0, 0.5];
    let u = fields.velocity("learned", &xs, 0.5).unwrap();
    assert_eq!(u.len(), 4);
    assert!(u.iter().all(|v| v.is_finite()));
    // Flows are handles, as many at once as the worker wants: each kind advances, and flows
    // advanced in turn do not disturb each other (twelve interleaved flows of one start give
    // the frames of one flow advanced alone).
    for kind in ["learned", "marginal", "uniform"] {
        let mut flow = fields.flow_begin(kind, &xs, "euler", 2).unwrap();
        assert_eq!(fields.flow_advance(&mut flow, 5).len(), 2 * xs.len());
        assert!(flow.done());
        assert_eq!(fields.flow_advance(&mut flow, 5).len(), 0);
    }
    let mut alone = fields.flow_begin("marginal", &xs, "rk4", 6).unwrap();
    let want = fields.flow_advance(&mut alone, 6);
    let mut many: Vec<_> = (0..12)
        .map(|_| fields.flow_begin("marginal", &xs, "rk4", 6).unwrap())
        .collect();
    let mut got = vec![Vec::new(); many.len()];
    for _ in 0..6 {
        for (flow, frames) in many.iter_mut().zip(got.iter_mut()) {
            frames.extend(fields.flow_advance(flow, 1));
        }
    }
    assert!(got.iter().all(|frames| *frames == want));
    assert_eq!(many[0].particles(), 2);
    assert_eq!(many[0].steps_done(), 6);
}

#[wasm_bindgen_test]
fn sde_flows_are_seeded_checked_and_sigma_zero_is_euler() {
    let cloud = fmp::wasm::preset_points("moons", 300, 1).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    let xs = fmp::wasm::noise_points(200, 5);
    let run = |fields: &mut Fields, sigma: f64, correction: bool, seed: u32| {
        let mut flow = fields
            .flow_begin_sde("marginal", &xs, 20, sigma, correction, seed)
            .unwrap();
        fields.flow_advance(&mut flow, 100)
    };
    // The same seed gives the same paths; another seed other paths.
    let a = run(&mut fields, 1.0, true, 9);
    assert_eq!(a.len(), 20 * xs.len());
    assert_eq!(a, run(&mut fields, 1.0, true, 9));
    assert_ne!(a, run(&mut fields, 1.0, true, 10));
    // sigma = 0 is the Euler ODE on the same grid.
    let mut ode = fields.flow_begin("marginal", &xs, "euler", 20).unwrap();
    assert_eq!(
        run(&mut fields, 0.0, true, 9),
        fields.flow_advance(&mut ode, 100)
    );
    // The noise level is checked.
    for sigma in [-0.1, 3.01, f64::NAN] {
        assert!(fields
            .flow_begin_sde("marginal", &xs, 20, sigma, true, 1)
            .is_err());
        assert!(fields.set_diffusion(sigma, true).is_err());
    }
    // The learned SDE needs a network.
    assert!(fields
        .flow_begin_sde("learned", &xs, 20, 1.0, true, 1)
        .is_err());
    // Langevin has no end, and its particles keep the law: compare with fresh samples.
    let start = fields.sample_marginal(0.5, 400, 3).unwrap();
    let mut langevin = fields
        .langevin_begin("marginal", &start, 0.5, 1.0, 3)
        .unwrap();
    let frames = fields.flow_advance(&mut langevin, 150);
    assert!(!langevin.done());
    assert_eq!(frames.len(), 150 * start.len());
    let last = &frames[frames.len() - start.len()..];
    let [ed, floor] = fields.marginal_match(last, 0.5, 1).unwrap()[..] else {
        panic!("two figures")
    };
    assert!(ed < 3.0 * floor, "Langevin: {ed} vs floor {floor}");
    // It moved them: 600 steps of ds = 0.01 at sigma_t = 0.5.
    let moved = start
        .chunks_exact(2)
        .zip(last.chunks_exact(2))
        .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
        .sum::<f32>()
        / 400.0;
    assert!(
        moved > 0.1,
        "Langevin moved the particles {moved} on average"
    );
    assert!(fields
        .langevin_begin("marginal", &start, 1.5, 1.0, 3)
        .is_err());
    // The Fokker-Planck grid: tiny with the correction, large without.
    fields.set_diffusion(1.0, true).unwrap();
    let with: f32 = fields
        .grid("fokker_planck", 0.5, 8, 1.5)
        .unwrap()
        .iter()
        .map(|v| v.abs())
        .sum();
    fields.set_diffusion(1.0, false).unwrap();
    let without: f32 = fields
        .grid("fokker_planck", 0.5, 8, 1.5)
        .unwrap()
        .iter()
        .map(|v| v.abs())
        .sum();
    assert!(with < 1e-4 && without > 1.0, "{with} vs {without}");
}

#[wasm_bindgen_test]
fn energy_distance_and_w2_to_match_the_core_and_subsample_deterministically() {
    let a = fmp::wasm::preset_points("moons", 300, 1).unwrap();
    let b = fmp::wasm::noise_points(200, 2);
    let e = fmp::wasm::energy_distance(&a, &b).unwrap();
    let want = fmp::metrics::energy_distance(&as_points(&a), &as_points(&b));
    assert!((e - want).abs() < 1e-12, "{e} vs {want}");
    assert!(fmp::wasm::energy_distance(&a, &a).unwrap() < 1e-12);
    // Different sizes: both reduced to 200 points for W2.
    let w = fmp::wasm::w2_to(&a, &b).unwrap();
    assert!(w > 0.1 && w.is_finite(), "{w}");
    assert_eq!(w, fmp::wasm::w2_to(&a, &b).unwrap());
    // More than 1,000 points: subsampled, deterministic, near the full value.
    let big = fmp::wasm::preset_points("moons", 1500, 3).unwrap();
    let e1 = fmp::wasm::energy_distance(&big, &b).unwrap();
    assert_eq!(e1, fmp::wasm::energy_distance(&big, &b).unwrap());
    let full = fmp::metrics::energy_distance(&as_points(&big), &as_points(&b));
    assert!((e1 - full).abs() < 0.02, "{e1} vs {full}");
    for (x, y) in [
        (&[][..], &b[..]),
        (&a[..3], &b[..]),
        (&b[..], &[f32::NAN, 0.0][..]),
    ] {
        assert!(fmp::wasm::energy_distance(x, y).is_err());
        assert!(fmp::wasm::w2_to(x, y).is_err());
    }
}

#[wasm_bindgen_test]
fn the_clamp_and_the_flow_grid_are_exported() {
    assert_eq!(fmp::wasm::beta_min(), 1e-3);
    for s in Schedule::ALL {
        let t_max = fmp::wasm::schedule_t_max(s.name()).unwrap();
        assert_eq!(t_max, s.t_max());
        let beta = fmp::wasm::schedule_at(s.name(), t_max).unwrap()[1];
        assert!((beta - 1e-3).abs() < 1e-12);
    }
    assert!(fmp::wasm::schedule_t_max("nope").is_err());
    // Flows run on the grid from 0 to t_max, one frame per step, ending at t_max.
    let cloud = fmp::wasm::preset_points("moons", 300, 1).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    fields.set_schedule("sqrt").unwrap();
    let times = fields.flow_times(20);
    assert_eq!(times, fmp::ode::time_grid(Schedule::Sqrt, 20));
    assert_eq!(*times.last().unwrap(), Schedule::Sqrt.t_max());
    let noise = fmp::wasm::noise_points(200, 1);
    for solver in ["euler", "midpoint", "rk4", "exact-step"] {
        let mut flow = fields.flow_begin("marginal", &noise, solver, 20).unwrap();
        let frames = fields.flow_advance(&mut flow, 100);
        assert_eq!(frames.len(), 20 * noise.len(), "{solver}");
        let last = as_points(&frames[19 * noise.len()..]);
        let near = fmp::metrics::near_fraction(&last, &as_points(&cloud), 0.01);
        // Euler on the square-root schedule is the weakest at 20 steps (0.86 here).
        let want = if solver == "exact-step" { 0.99 } else { 0.8 };
        assert!(near > want, "{solver}: {near}");
    }
}

#[wasm_bindgen_test]
fn holdout_spacing_and_memorization_exports() {
    let mask = fmp::wasm::holdout_split(1000, 0.2, 1).unwrap();
    assert_eq!(mask.len(), 1000);
    assert_eq!(mask.iter().filter(|m| **m == 1).count(), 200);
    assert!(mask.iter().all(|m| *m <= 1));
    assert_eq!(mask, fmp::wasm::holdout_split(1000, 0.2, 1).unwrap());
    let (_, heldout) = fmp::data::holdout_split(1000, 0.2, 1);
    assert!(heldout.iter().all(|&i| mask[i] == 1));
    assert!(fmp::wasm::holdout_split(5001, 0.2, 1).is_err());
    assert!(fmp::wasm::holdout_split(0, 0.2, 1).unwrap().is_empty());

    let cloud = fmp::wasm::preset_points("moons", 1000, 1).unwrap();
    let s = fmp::wasm::median_nn_spacing(&cloud).unwrap();
    assert!((s - 0.0267).abs() < 1e-3, "{s}");
    assert!(fmp::wasm::median_nn_spacing(&cloud[..3]).is_err());

    let train = [0.0f32, 0.0, 1.0, 0.0];
    let held = [0.0f32, 1.0];
    let samples = [0.0f32, 0.05, 1.0, 0.0, 0.0, 0.96, 5.0, 5.0];
    let m = fmp::wasm::memorization(&samples, &train, &held, 0.1).unwrap();
    assert_eq!(m, vec![0.5, 0.25]);
    assert!(fmp::wasm::memorization(&samples[..3], &train, &held, 0.1).is_err());
}

#[wasm_bindgen_test]
fn cfm_fm_gap_of_the_page_cloud() {
    let cloud = fmp::wasm::preset_points("moons", 1000, 1).unwrap();
    let mut fields = Fields::new();
    assert_eq!(fields.cfm_fm_gap(10, 1).unwrap(), vec![0.0, 0.0]);
    fields.set_points(&cloud).unwrap();
    let g = fields.cfm_fm_gap(20_000, 1).unwrap();
    assert_eq!(g.len(), 2);
    assert!((g[0] - 2.72).abs() < 4.0 * g[1] + 0.02, "{g:?}");
    assert!(g[1] > 0.0 && g[1] < 0.05, "{g:?}");
    assert!(fields.cfm_fm_gap(0, 1).is_err());
    assert!(fields.cfm_fm_gap(1_000_001, 1).is_err());
}

#[wasm_bindgen_test]
fn summaries_on_samples_of_p_t() {
    let cloud = fmp::wasm::preset_points("moons", 500, 1).unwrap();
    let mut fields = Fields::new();
    assert!(
        fields.residual_on_samples("exact", 0.5, 100, 1).is_err(),
        "empty cloud"
    );
    fields.set_points(&cloud).unwrap();
    for t in [0.0, 0.3, 0.7, 0.95] {
        let exact = fields.residual_on_samples("exact", t, 2000, 1).unwrap();
        let uniform = fields.residual_on_samples("uniform", t, 2000, 1).unwrap();
        assert!(exact < 1e-6, "exact residual {exact} at t = {t}");
        assert!(
            t == 0.0 || uniform > 0.1,
            "uniform residual {uniform} at t = {t}"
        );
        // the same seed gives the same figure
        assert_eq!(
            exact,
            fields.residual_on_samples("exact", t, 2000, 1).unwrap()
        );
    }
    assert!(fields.residual_on_samples("learned", 0.5, 100, 1).is_err());
    assert!(fields.error_on_samples(0.5, 100, 1).is_err());
    assert!(fields.residual_on_samples("nope", 0.5, 100, 1).is_err());
    assert!(fields.residual_on_samples("exact", 0.5, 0, 1).is_err());
    assert!(fields
        .residual_on_samples("exact", 0.5, 100_001, 1)
        .is_err());
    // A barely trained network: its residual and error are clearly not 0.
    let mut trainer =
        fmp::wasm::TrainerHandle::new(&cloud, 32, 2, 2, 128, 1e-2, "linear", "independent", 3)
            .unwrap();
    trainer.train(50, false);
    fields
        .set_model(32, 2, 2, trainer.weights().to_vec())
        .unwrap();
    let learned = fields.residual_on_samples("learned", 0.5, 500, 1).unwrap();
    let error = fields.error_on_samples(0.5, 500, 1).unwrap();
    assert!(learned.is_finite() && learned > 0.01, "{learned}");
    assert!(error.is_finite() && error > 0.01, "{error}");
    // At t = 1 (the clamp) every summary is finite.
    for what in ["exact", "uniform", "learned"] {
        assert!(fields
            .residual_on_samples(what, 1.0, 200, 1)
            .unwrap()
            .is_finite());
    }
    assert!(fields.error_on_samples(1.0, 200, 1).unwrap().is_finite());
}

#[wasm_bindgen_test]
fn score_denoiser_and_divergence_views() {
    let cloud = fmp::wasm::preset_points("moons", 300, 1).unwrap();
    let mut fields = Fields::new();
    fields.set_points(&cloud).unwrap();
    fields.set_schedule("cosine").unwrap();
    let core = EmpiricalMarginal::new(as_points(&cloud), GaussianPath::new(Schedule::Cosine));
    let xs = [0.1f32, -0.2, 1.0, 0.5, -1.5, 0.3];
    for t in [0.0, 0.4, 0.9, 1.0] {
        let score = fields.velocity("score", &xs, t).unwrap();
        let denoised = fields.velocity("denoiser", &xs, t).unwrap();
        let mut zbar = vec![[0.0; 2]; 3];
        core.posterior_mean_batch(&as_points(&xs), t, &mut zbar);
        for (i, x) in as_points(&xs).iter().enumerate() {
            let want = core.eval(*x, t).score;
            for k in 0..2 {
                let got = f64::from(score[2 * i + k]);
                assert!(
                    (got - want[k]).abs() <= 1e-5 * (1.0 + want[k].abs()),
                    "t={t}"
                );
                assert!((f64::from(denoised[2 * i + k]) - zbar[i][k]).abs() < 1e-5);
            }
        }
    }
    // t = 0: the score of N(0, I) is -x; the denoiser is the cloud's mean (about 0).
    let s0 = fields.velocity("score", &xs, 0.0).unwrap();
    assert!(s0.iter().zip(&xs).all(|(s, x)| (s + x).abs() < 1e-6));
    // The network's score: finite from t = 0 (where it is -x) to the clamp.
    assert!(
        fields.velocity("score_learned", &xs, 0.5).is_err(),
        "no network yet"
    );
    let mut trainer =
        fmp::wasm::TrainerHandle::new(&cloud, 16, 2, 1, 64, 1e-2, "cosine", "independent", 3)
            .unwrap();
    trainer.train(20, false);
    fields
        .set_model(16, 2, 1, trainer.weights().to_vec())
        .unwrap();
    let l0 = fields.velocity("score_learned", &xs, 0.0).unwrap();
    assert!(
        l0.iter().zip(&xs).all(|(s, x)| (s + x).abs() < 1e-5),
        "{l0:?}"
    );
    for t in [0.3, 0.99, 1.0] {
        let l = fields.velocity("score_learned", &xs, t).unwrap();
        assert!(l.iter().all(|v| v.is_finite()), "t={t}");
    }
    assert!(fields.flow_begin("score", &xs, "euler", 2).is_err());
    assert!(fields.velocity("nope", &xs, 0.5).is_err());
    // The divergence grid: the closed form, against central differences of the field.
    let (n, half, t) = (6, 2.0, 0.6);
    let div = fields.grid("divergence", t, n, half).unwrap();
    let cell = 2.0 * half / n as f64;
    for (k, d) in div.iter().enumerate() {
        let x = [
            -half + ((k % n) as f64 + 0.5) * cell,
            half - ((k / n) as f64 + 0.5) * cell,
        ];
        let h = 1e-5;
        let u = |p: [f64; 2]| core.u_marg(p, t);
        let fd = (u([x[0] + h, x[1]])[0] - u([x[0] - h, x[1]])[0] + u([x[0], x[1] + h])[1]
            - u([x[0], x[1] - h])[1])
            / (2.0 * h);
        assert!(
            (f64::from(*d) - fd).abs() < 1e-3 * (1.0 + fd.abs()),
            "{d} vs {fd}"
        );
    }
}

/// The guidance lesson's wasm surface: preset labels aligned with their points, labelled CSV
/// (label 0 for a file without labels), labels checked against the cloud, the exact guided
/// figures (all of class 1's samples land in class 1 at w = 1, about half at w = 0), and a
/// guided flow in its slot.
#[wasm_bindgen_test]
fn labels_and_guided_figures() {
    let pts = fmp::wasm::preset_points("moons", 400, 4).unwrap();
    let labels = fmp::wasm::preset_labels("moons", 400, 4).unwrap();
    assert_eq!(labels.len() * 2, pts.len());
    assert_eq!(labels.iter().filter(|&&y| y == 2).count(), 200);
    assert_eq!(
        fmp::wasm::parse_labelled_csv("x,y,label\n1,2,3\n").unwrap(),
        vec![1.0, 2.0, 3.0]
    );
    assert_eq!(
        fmp::wasm::parse_labelled_csv("1,2\n").unwrap(),
        vec![1.0, 2.0, 0.0]
    );
    assert!(fmp::wasm::parse_labelled_csv("1,2,9\n").is_err());
    let mut fields = Fields::new();
    fields.set_points(&pts).unwrap();
    assert!(fields.set_labels(&labels[1..]).is_err());
    fields.set_labels(&labels).unwrap();
    assert!(fields.set_guidance(5, 1.0).is_err() && fields.set_guidance(1, 9.0).is_err());
    let noise = fmp::wasm::noise_points(100, 7);
    let ones = vec![1u8; 100];
    let at = |fields: &mut Fields, w: f64| {
        fields
            .guided_figures(false, &noise, &ones, w, "exact-step", 30)
            .unwrap()
    };
    let (w0, w1) = (at(&mut fields, 0.0), at(&mut fields, 1.0));
    assert!(w1[0] >= 0.99, "fidelity at w = 1: {}", w1[0]);
    assert!(w0[0] < 0.8, "fidelity at w = 0: {}", w0[0]);
    assert!(
        w1[1] < w0[1],
        "spread {} at w = 1, {} at w = 0",
        w1[1],
        w0[1]
    );
    let mut guided = fields
        .flow_begin_guided("marginal", &noise, &ones, 2.0, "euler", 4)
        .unwrap();
    assert_eq!(fields.flow_advance(&mut guided, 10).len(), 4 * noise.len());
    assert!(fields
        .flow_begin_guided("marginal", &noise, &ones[1..], 2.0, "euler", 4)
        .is_err());
}

/// The packed kernel of this build (simd128, or relaxed SIMD in the relaxed test run) and
/// matrixmultiply against a naive f64 product: every shape with dimensions 1 to 9 (all edge
/// cases of the 8 x 4 tile) and larger ones crossing the blocks, every operand form.
#[wasm_bindgen_test]
fn every_kernel_matches_the_naive_product_in_the_browser() {
    use fmp::gemm::{self, Kernel};
    let name = gemm::packed_name();
    assert!(name == "simd128" || name == "relaxed-simd", "{name}");
    assert_eq!(
        gemm::kernel(),
        Kernel::Packed,
        "wasm32 multiplies with the packed kernel"
    );
    let mut shapes = gemm_check::edge_shapes();
    shapes.extend([(67, 130, 300), (256, 33, 1100), (13, 200, 71)]);
    gemm_check::every_kernel_matches_the_naive_product(&shapes, 12345);
}

/// The data-parallel surface: a leader and a shard, driven as the page's workers drive them
/// (shares written to JavaScript arrays and back), give exactly the steps of `train` with one
/// worker, and the same bits on a second run with two.
#[wasm_bindgen_test]
fn data_parallel_steps_through_the_wasm_surface() {
    let points = fmp::wasm::preset_points("moons", 400, 3).unwrap();
    let new = || {
        fmp::wasm::TrainerHandle::new(&points, 32, 2, 2, 64, 1e-3, "linear", "independent", 7)
            .unwrap()
    };
    let run = |workers: usize, steps: usize| -> Vec<f32> {
        let mut leader = new();
        let shape = leader.shape();
        let mut shard = fmp::wasm::GradShard::new(&shape).unwrap();
        let n_params = leader.num_params();
        let dim = leader.input_dim();
        let params = js_sys::Float32Array::new_with_length(n_params as u32);
        let grads = js_sys::Float32Array::new_with_length(n_params as u32);
        let share = js_sys::Float32Array::new_with_length(((dim + 2) * 64) as u32);
        for _ in 0..steps {
            assert!(leader.begin_step());
            let b = leader.batch_size();
            let half = if workers == 2 { b / 2 } else { b };
            leader.share_gradient(0, half).unwrap();
            if workers == 2 {
                leader.write_trained(&params).unwrap();
                leader.write_share(half, b, &share).unwrap();
                shard.set_params(&params).unwrap();
                shard
                    .gradient(&share, b - half, leader.loss_scale())
                    .unwrap();
                shard.write_grads(&grads).unwrap();
                leader.add_gradient(&grads).unwrap();
            }
            leader.finish_step();
        }
        leader.weights().to_vec()
    };
    let mut plain = new();
    plain.train(30, false);
    assert_eq!(
        run(1, 30),
        plain.weights().to_vec(),
        "one worker is train()"
    );
    let two = run(2, 30);
    assert_eq!(two, run(2, 30), "two workers reproduce bit for bit");
    assert_ne!(two, plain.weights().to_vec(), "another summation order");
    assert!(fmp::wasm::GradShard::new(&[32, 2]).is_err());
    assert!(fmp::wasm::set_kernel("nope").is_err());
}

/// The network's forward pass in this build (the explicit f32x4 bias + SiLU, its lanes and its
/// scalar tail: width 6) against the same network evaluated in f64 with the exact sigmoid,
/// over pre-activations from -90 to 90 (the clamp of the exponential included).
#[wasm_bindgen_test]
fn the_simd_silu_matches_the_exact_forward_pass() {
    use fmp::mlp::{ForwardCache, Mlp, MlpConfig};
    let config = MlpConfig {
        width: 6,
        depth: 1,
        time_features: 0,
        classes: 0,
    };
    // Hidden layer W (6 x 3, column-major) and b, then V = W_out^T (6 x 2) and b_out.
    let w: Vec<f32> = (0..18).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.9).collect();
    let b: Vec<f32> = (0..6).map(|i| i as f32 * 0.37 - 1.0).collect();
    let v: Vec<f32> = (0..12).map(|i| ((i * 5 % 7) as f32 - 3.0) * 0.25).collect();
    let params = [w.clone(), b.clone(), v.clone(), vec![0.1, -0.2]].concat();
    let mlp = Mlp::from_params(config, params).unwrap();
    let xs: Vec<fmp::Point> = (0..40)
        .map(|i| [(i as f64 - 20.0) * 0.5, (i as f64 * 0.37).sin() * 9.0])
        .collect();
    let t = 0.3;
    let mut out = vec![[0.0; 2]; xs.len()];
    mlp.predict(&xs, t, &mut out, &mut ForwardCache::new());
    for (x, got) in xs.iter().zip(&out) {
        let input = [x[0], x[1], t];
        let mut y = [0.1f64, -0.2];
        for i in 0..6 {
            let z: f64 = b[i] as f64 + (0..3).map(|k| w[k * 6 + i] as f64 * input[k]).sum::<f64>();
            let a = z / (1.0 + (-z).exp());
            y[0] += v[i] as f64 * a;
            y[1] += v[6 + i] as f64 * a;
        }
        for o in 0..2 {
            let tol = 1e-5 * (1.0 + y[o].abs());
            assert!(
                (got[o] - y[o]).abs() <= tol,
                "at {x:?}: {} vs {}",
                got[o],
                y[o]
            );
        }
    }
}
