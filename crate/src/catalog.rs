//! What the app offers, as one JSON object: the data presets, schedules and ODE solvers (ids
//! and labels from [`Preset`], [`Schedule`] and [`Solver`] themselves, so the lists exist once,
//! in the core) and the default training settings ([`TrainConfig::default`]).

use crate::data::Preset;
use crate::json;
use crate::ode::Solver;
use crate::path::Schedule;
use crate::trainer::{Coupling, TrainConfig};

/// The catalog:
/// `{"presets":[{"id":..,"label":..},..],"schedules":[..],"solvers":[..],`
/// `"defaults":{"width":..,"depth":..,"time_features":..,"batch":..,"lr":..}}`,
/// lists in UI order; each `id` parses back with the enum's `parse`.
pub fn catalog_json() -> String {
    fn list(items: impl Iterator<Item = (&'static str, &'static str)>) -> String {
        let entries: Vec<String> = items
            .map(|(id, label)| {
                format!(
                    "{{\"id\":{},\"label\":{}}}",
                    json::string(id),
                    json::string(label)
                )
            })
            .collect();
        format!("[{}]", entries.join(","))
    }
    let c = TrainConfig::default();
    format!(
        "{{\"presets\":{},\"schedules\":{},\"solvers\":{},\"couplings\":{},\
\"defaults\":{{\"width\":{},\"depth\":{},\"time_features\":{},\"batch\":{},\"lr\":{}}}}}",
        list(Preset::ALL.iter().map(|p| (p.name(), p.label()))),
        list(Schedule::ALL.iter().map(|s| (s.name(), s.label()))),
        list(Solver::ALL.iter().map(|s| (s.name(), s.label()))),
        list(Coupling::ALL.iter().map(|k| (k.name(), k.label()))),
        c.mlp.width,
        c.mlp.depth,
        c.mlp.time_features,
        c.batch,
        c.adam.lr
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `"id"` values of the list that follows `"key":` in `json`.
    fn ids<'a>(json: &'a str, key: &str) -> Vec<&'a str> {
        let start = json.find(&format!("\"{key}\":[")).expect("key present");
        let list = &json[start..start + json[start..].find(']').expect("list closes")];
        list.split("\"id\":\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("id closes")])
            .collect()
    }

    #[test]
    fn every_id_parses_back() {
        let json = catalog_json();
        let presets = ids(&json, "presets");
        let schedules = ids(&json, "schedules");
        let solvers = ids(&json, "solvers");
        assert_eq!(presets.len(), Preset::ALL.len());
        assert_eq!(schedules.len(), Schedule::ALL.len());
        assert_eq!(solvers.len(), Solver::ALL.len());
        for (id, p) in presets.iter().zip(Preset::ALL) {
            assert_eq!(Preset::parse(id), Some(p), "{id}");
        }
        for (id, s) in schedules.iter().zip(Schedule::ALL) {
            assert_eq!(Schedule::parse(id), Some(s), "{id}");
        }
        for (id, s) in solvers.iter().zip(Solver::ALL) {
            assert_eq!(Solver::parse(id), Some(s), "{id}");
        }
        let couplings = ids(&json, "couplings");
        assert_eq!(couplings.len(), Coupling::ALL.len());
        for (id, k) in couplings.iter().zip(Coupling::ALL) {
            assert_eq!(Coupling::parse(id), Some(k), "{id}");
        }
    }

    #[test]
    fn the_json_is_the_documented_one() {
        // The exact text the page's JavaScript reads.
        assert_eq!(
            catalog_json(),
            concat!(
                r#"{"presets":[{"id":"moons","label":"Two moons"},{"id":"circles","label":"Circles"},"#,
                r#"{"id":"8gaussians","label":"8 Gaussians"},{"id":"checkerboard","label":"Checkerboard"},"#,
                r#"{"id":"spiral","label":"Spiral"},{"id":"smiley","label":"Smiley"}],"#,
                r#""schedules":[{"id":"linear","label":"linear (CondOT)"},{"id":"cosine","label":"cosine"},"#,
                r#"{"id":"sqrt","label":"square-root"}],"#,
                r#""solvers":[{"id":"euler","label":"Euler"},{"id":"midpoint","label":"midpoint"},"#,
                r#"{"id":"rk4","label":"RK4"},{"id":"exact-step","label":"closed-form step"}],"#,
                r#""couplings":[{"id":"independent","label":"independent"},{"id":"ot","label":"minibatch OT"}],"#,
                r#""defaults":{"width":64,"depth":3,"time_features":2,"batch":512,"lr":0.01}}"#
            )
        );
    }
}
