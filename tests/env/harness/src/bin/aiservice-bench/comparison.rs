//! The side-by-side table: each figure measured, in the same run, with our provider and with
//! what a user would pick instead or the floor nobody can beat:
//! - anchor: the provider users pick today for the same engine (pulumi-kubernetes for Pulumi
//!   rows, Terraform's `kubernetes_manifest` where it can be built);
//! - null provider: the same engine and program with a provider that answers every call at
//!   once with its inputs;
//! - kubectl: the same objects applied or deleted by `kubectl`.

use std::time::Duration;

/// One figure, measured with every tool that can do the same thing.
pub struct Comparison {
    pub figure: String,
    pub unit: Unit,
    pub ours: f64,
    pub anchor: Option<f64>,
    pub null: Option<f64>,
    pub kubectl: Option<f64>,
    pub targets: Vec<Target>,
}

#[derive(Clone, Copy)]
pub enum Unit {
    Seconds,
    Millis,
    Megabytes,
}

/// What a figure must reach.
#[derive(Clone, Copy)]
pub enum Target {
    /// Our share of the wall time, (ours - null) / ours, below this fraction.
    OverheadBelow(f64),
    /// pulumi-kubernetes / ours at least this factor.
    FasterThanAnchor(f64),
    /// ours / pulumi-kubernetes at most this fraction (memory).
    AtMostOfAnchor(f64),
    /// ours / kubectl at most this factor.
    WithinOfKubectl(f64),
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::OverheadBelow(f) => format!("over null < {:.0}%", f * 100.0),
            Target::FasterThanAnchor(x) => format!(">= {x}x faster than anchor"),
            Target::AtMostOfAnchor(f) => format!("<= 1/{:.0} of anchor", 1.0 / f),
            Target::WithinOfKubectl(x) => format!("<= {x}x kubectl"),
        }
    }

    /// `None` when the figure lacks the baseline the target needs.
    fn met_by(self, c: &Comparison) -> Option<bool> {
        match self {
            Target::OverheadBelow(f) => Some(c.overhead()? < f),
            Target::FasterThanAnchor(x) => Some(c.anchor? / c.ours >= x),
            Target::AtMostOfAnchor(f) => Some(c.ours / c.anchor? <= f),
            Target::WithinOfKubectl(x) => Some(c.ours / c.kubectl? <= x),
        }
    }
}

impl Comparison {
    /// A figure in `unit` with no baselines yet; the builder methods add them, in that unit.
    pub fn new(figure: impl Into<String>, unit: Unit, ours: f64) -> Comparison {
        Comparison {
            figure: figure.into(),
            unit,
            ours,
            anchor: None,
            null: None,
            kubectl: None,
            targets: Vec::new(),
        }
    }

    pub fn anchor(mut self, value: Option<f64>) -> Self {
        self.anchor = value;
        self
    }

    pub fn null(mut self, value: Option<f64>) -> Self {
        self.null = value;
        self
    }

    pub fn kubectl(mut self, value: Option<f64>) -> Self {
        self.kubectl = value;
        self
    }

    pub fn target(mut self, target: Target) -> Self {
        self.targets.push(target);
        self
    }

    /// The share of our time that the null provider does not spend: what is ours.
    fn overhead(&self) -> Option<f64> {
        Some((self.ours - self.null?) / self.ours)
    }

    fn verdict(&self) -> &'static str {
        let verdicts: Vec<Option<bool>> = self.targets.iter().map(|t| t.met_by(self)).collect();
        if verdicts.is_empty() {
            ""
        } else if verdicts.contains(&Some(false)) {
            "MISSES TARGET"
        } else if verdicts.contains(&None) {
            "no baseline"
        } else {
            "meets target"
        }
    }
}

/// The median of `samples` (at least one), in seconds.
pub fn median_secs(samples: &[Duration]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[(sorted.len() - 1) / 2].as_secs_f64()
}

fn show(unit: Unit, value: Option<f64>) -> String {
    match (value, unit) {
        (None, _) => "-".into(),
        (Some(v), Unit::Seconds) => format!("{v:.2} s"),
        (Some(v), Unit::Millis) => format!("{v:.2} ms"),
        (Some(v), Unit::Megabytes) => format!("{v:.1} MB"),
    }
}

pub fn print(rows: &[Comparison]) {
    let header = [
        "figure",
        "ours",
        "anchor",
        "null provider",
        "kubectl",
        "ours/anchor",
        "over null",
        "target",
        "",
    ]
    .map(String::from);
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|r| {
            [
                r.figure.clone(),
                show(r.unit, Some(r.ours)),
                show(r.unit, r.anchor),
                show(r.unit, r.null),
                show(r.unit, r.kubectl),
                r.anchor
                    .map_or("-".into(), |pk| format!("{:.2}x", r.ours / pk)),
                r.overhead()
                    .map_or("-".into(), |o| format!("{:.0}%", o * 100.0)),
                r.targets
                    .iter()
                    .map(|t| t.describe())
                    .collect::<Vec<_>>()
                    .join(", "),
                r.verdict().into(),
            ]
        })
        .collect();
    let mut widths = [0; 9];
    for row in cells.iter().chain([&header]) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in [&header].into_iter().chain(&cells) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                // Names and targets read left to right; numbers line up on the right.
                if i == 0 || i >= 7 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_is_our_share_of_the_wall_time() {
        let row = Comparison::new("up", Unit::Seconds, 10.0)
            .null(Some(9.0))
            .target(Target::OverheadBelow(0.10));
        assert!((row.overhead().unwrap() - 0.1).abs() < 1e-9);
        assert_eq!(row.verdict(), "MISSES TARGET", "10% is not under 10%");
        let faster = Comparison::new("destroy", Unit::Seconds, 3.0)
            .anchor(Some(10.0))
            .target(Target::FasterThanAnchor(3.0));
        assert_eq!(faster.verdict(), "meets target");
        let unmeasured =
            Comparison::new("destroy", Unit::Seconds, 3.0).target(Target::FasterThanAnchor(3.0));
        assert_eq!(unmeasured.verdict(), "no baseline");
        assert_eq!(median_secs(&[3, 1, 2].map(Duration::from_secs)), 2.0);
    }
}
