//! The names of what the page evaluates on the stage, parsed in one place: the arrows of a
//! vector field ([`FieldKind`]), the fields a flow integrates ([`FlowKind`]) and the scalar
//! grids ([`GridKind`]). The wasm surface takes these names as strings (`Fields::velocity`,
//! `Fields::flow_begin`, `Fields::grid`) and parses them with [`std::str::FromStr`]; the
//! catalog ([`crate::catalog`]) ships the lists, so the names exist once, here. An unknown name
//! is an error that lists the valid ones.

use std::fmt;
use std::str::FromStr;

/// A name that is not one of a list's: the message names the list and its valid entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownKind {}

/// `a, b or c`.
fn or_list(names: impl Iterator<Item = &'static str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_string(),
        None => String::new(),
    }
}

/// The vector fields whose arrows the page draws (`Fields::velocity(kind, ...)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// The network `u_theta`.
    Learned,
    /// The exact marginal field `u_t`.
    Marginal,
    /// The field with uniform instead of posterior weights (a wrong field, for contrast).
    Uniform,
    /// The exact marginal score `grad log p_t`.
    Score,
    /// The network's score, converted from its field.
    ScoreLearned,
    /// The posterior mean `zbar(x) = E[z | x_t = x]`, as positions.
    Denoiser,
    /// The drift of the exact SDE, `u_t + (sigma_t^2 / 2) grad log p_t`.
    SdeDrift,
    /// The exact field of one class, `u_t(x|y)`.
    Class,
    /// The exact classifier-free guided field `(1 - w) u_t(x) + w u_t(x|y)`.
    Guided,
    /// The network's field of one class.
    LearnedClass,
    /// The network's guided field.
    LearnedGuided,
}

impl FieldKind {
    /// Every kind, in the catalog's order.
    pub const ALL: [FieldKind; 11] = [
        FieldKind::Learned,
        FieldKind::Marginal,
        FieldKind::Uniform,
        FieldKind::Score,
        FieldKind::ScoreLearned,
        FieldKind::Denoiser,
        FieldKind::SdeDrift,
        FieldKind::Class,
        FieldKind::Guided,
        FieldKind::LearnedClass,
        FieldKind::LearnedGuided,
    ];

    /// The name the wasm surface takes.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Learned => "learned",
            FieldKind::Marginal => "marginal",
            FieldKind::Uniform => "uniform",
            FieldKind::Score => "score",
            FieldKind::ScoreLearned => "score_learned",
            FieldKind::Denoiser => "denoiser",
            FieldKind::SdeDrift => "sde_drift",
            FieldKind::Class => "class",
            FieldKind::Guided => "guided",
            FieldKind::LearnedClass => "learned_class",
            FieldKind::LearnedGuided => "learned_guided",
        }
    }

    /// A short description.
    pub fn label(self) -> &'static str {
        match self {
            FieldKind::Learned => "learned field",
            FieldKind::Marginal => "exact marginal field",
            FieldKind::Uniform => "uniform-weight field",
            FieldKind::Score => "exact score",
            FieldKind::ScoreLearned => "learned score",
            FieldKind::Denoiser => "posterior mean (denoiser)",
            FieldKind::SdeDrift => "SDE drift",
            FieldKind::Class => "exact class field",
            FieldKind::Guided => "exact guided field",
            FieldKind::LearnedClass => "learned class field",
            FieldKind::LearnedGuided => "learned guided field",
        }
    }

    /// Whether evaluating it needs the network.
    pub fn needs_network(self) -> bool {
        matches!(
            self,
            FieldKind::Learned
                | FieldKind::ScoreLearned
                | FieldKind::LearnedClass
                | FieldKind::LearnedGuided
        )
    }
}

impl FromStr for FieldKind {
    type Err = UnknownKind;

    /// The kind of [`FieldKind::name`]; "conditional" is refused with a pointer to
    /// `conditional_velocity` (that field needs its data point `z`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(kind) = FieldKind::ALL.into_iter().find(|k| k.name() == name) {
            return Ok(kind);
        }
        Err(UnknownKind(if name == "conditional" {
            "the conditional field needs its z: use conditional_velocity(xs, t, zx, zy)".into()
        } else {
            format!(
                "unknown field {name} ({})",
                or_list(FieldKind::ALL.iter().map(|k| k.name()))
            )
        }))
    }
}

/// The vector fields a flow carries particles along (`Fields::flow_begin(kind, ...)`),
/// a part of [`FieldKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    /// The network `u_theta`.
    Learned,
    /// The exact marginal field `u_t`.
    Marginal,
    /// The uniform-weight field.
    Uniform,
}

impl FlowKind {
    /// Every flow kind, in the catalog's order.
    pub const ALL: [FlowKind; 3] = [FlowKind::Learned, FlowKind::Marginal, FlowKind::Uniform];

    /// The field it follows (its name is that field's).
    pub fn field(self) -> FieldKind {
        match self {
            FlowKind::Learned => FieldKind::Learned,
            FlowKind::Marginal => FieldKind::Marginal,
            FlowKind::Uniform => FieldKind::Uniform,
        }
    }

    /// The name the wasm surface takes.
    pub fn name(self) -> &'static str {
        self.field().name()
    }
}

impl TryFrom<FieldKind> for FlowKind {
    type Error = UnknownKind;

    fn try_from(kind: FieldKind) -> Result<Self, Self::Error> {
        FlowKind::ALL
            .into_iter()
            .find(|f| f.field() == kind)
            .ok_or_else(|| {
                UnknownKind(format!(
                    "{} is not a flow field ({})",
                    kind.name(),
                    or_list(FlowKind::ALL.iter().map(|k| k.name()))
                ))
            })
    }
}

impl FromStr for FlowKind {
    type Err = UnknownKind;

    /// A [`FieldKind`] name that is also a flow's.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        FlowKind::try_from(name.parse::<FieldKind>()?)
    }
}

/// The scalar grids the page colours the stage with (`Fields::grid(what, ...)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridKind {
    /// `log p_t`.
    LogDensity,
    /// The closed-form divergence of the exact field.
    Divergence,
    /// `|u_theta - u_t|`.
    Error,
    /// The continuity residual of the exact pair (about 0).
    Residual,
    /// The continuity residual of the uniform-weight field.
    ResidualUniform,
    /// The continuity residual of the network (divergence by central differences).
    ResidualLearned,
    /// The Fokker-Planck residual of the exact `p_t` under the lesson's SDE.
    FokkerPlanck,
}

impl GridKind {
    /// Every grid, in the catalog's order.
    pub const ALL: [GridKind; 7] = [
        GridKind::LogDensity,
        GridKind::Divergence,
        GridKind::Error,
        GridKind::Residual,
        GridKind::ResidualUniform,
        GridKind::ResidualLearned,
        GridKind::FokkerPlanck,
    ];

    /// The name the wasm surface takes.
    pub fn name(self) -> &'static str {
        match self {
            GridKind::LogDensity => "logp",
            GridKind::Divergence => "divergence",
            GridKind::Error => "error",
            GridKind::Residual => "residual",
            GridKind::ResidualUniform => "residual_uniform",
            GridKind::ResidualLearned => "residual_learned",
            GridKind::FokkerPlanck => "fokker_planck",
        }
    }

    /// A short description.
    pub fn label(self) -> &'static str {
        match self {
            GridKind::LogDensity => "log density",
            GridKind::Divergence => "divergence of the exact field",
            GridKind::Error => "error of the learned field",
            GridKind::Residual => "continuity residual, exact field",
            GridKind::ResidualUniform => "continuity residual, uniform weights",
            GridKind::ResidualLearned => "continuity residual, learned field",
            GridKind::FokkerPlanck => "Fokker-Planck residual",
        }
    }
}

impl FromStr for GridKind {
    type Err = UnknownKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        GridKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                UnknownKind(format!(
                    "unknown grid {name} ({})",
                    or_list(GridKind::ALL.iter().map(|k| k.name()))
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_and_names_are_distinct() {
        for k in FieldKind::ALL {
            assert_eq!(k.name().parse::<FieldKind>(), Ok(k));
        }
        for k in FlowKind::ALL {
            assert_eq!(k.name().parse::<FlowKind>(), Ok(k));
            assert_eq!(FlowKind::try_from(k.field()), Ok(k));
        }
        for k in GridKind::ALL {
            assert_eq!(k.name().parse::<GridKind>(), Ok(k));
        }
        let mut names: Vec<&str> = FieldKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FieldKind::ALL.len());
        let mut grids: Vec<&str> = GridKind::ALL.iter().map(|k| k.name()).collect();
        grids.sort_unstable();
        grids.dedup();
        assert_eq!(grids.len(), GridKind::ALL.len());
    }

    #[test]
    fn errors_list_the_valid_names() {
        let e = "curl".parse::<FieldKind>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown field curl (learned, marginal, uniform, score, score_learned, denoiser, \
             sde_drift, class, guided, learned_class or learned_guided)"
        );
        let e = "conditional".parse::<FieldKind>().unwrap_err().to_string();
        assert!(e.contains("conditional_velocity"), "{e}");
        let e = "score".parse::<FlowKind>().unwrap_err().to_string();
        assert_eq!(
            e,
            "score is not a flow field (learned, marginal or uniform)"
        );
        let e = "density".parse::<GridKind>().unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown grid density (logp, divergence, error, residual, residual_uniform, \
             residual_learned or fokker_planck)"
        );
        assert_eq!(or_list(["a"].into_iter()), "a");
        assert_eq!(or_list(std::iter::empty()), "");
    }
}
