//! The AIService operator: how many replicas to run (`scaling`, a pure function of observations).

pub mod scaling;
