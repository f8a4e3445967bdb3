//! Head sampling: whether a new span is recorded and exported.

use super::context::SpanContext;
use crate::config::Warning;
use crate::model::{KeyValue, Link, SpanKind, TraceId};
use alloc::sync::Arc;
use core::fmt;

/// A sampler's verdict on a new span (OpenTelemetry `Decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SamplingDecision {
    /// Not recorded, not exported; the span still has a valid context, which propagates
    /// with the `sampled` flag unset.
    Drop,
    /// Recorded (`is_recording()` is true) but not sampled. This crate has no span
    /// processors, so such a span is never exported: it only lets the code that holds it
    /// see its attributes being set. Its context propagates with `sampled` unset.
    RecordOnly,
    /// Recorded, sampled and exported when it ends.
    RecordAndSample,
}

/// What a sampler sees of the span about to start.
#[derive(Debug, Clone, Copy)]
pub struct SamplingParams<'a> {
    /// The parent's context; `None` for a root span.
    pub parent: Option<&'a SpanContext>,
    /// The new span's trace id (the parent's, or a new one for a root span).
    pub trace_id: TraceId,
    /// The span name.
    pub name: &'a str,
    /// The span kind.
    pub kind: SpanKind,
    /// Attributes given at creation.
    pub attributes: &'a [KeyValue],
    /// Links given at creation.
    pub links: &'a [Link],
}

/// A user-defined sampler, for [`Sampler::Custom`].
pub trait ShouldSample: Send + Sync + fmt::Debug {
    /// The decision for a new span.
    fn should_sample(&self, params: &SamplingParams<'_>) -> SamplingDecision;
    /// A short name with the configuration, e.g. `MySampler{0.5}`.
    fn description(&self) -> String;
}

/// A head sampler: one of the OpenTelemetry built-ins, or a custom one.
///
/// The default is `ParentBased(root = AlwaysOn)`, as the specification says.
///
/// ```
/// use otlp_sync::trace::Sampler;
/// assert_eq!(Sampler::default().description(),
///     "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,\
///      remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,\
///      localParentNotSampled:AlwaysOffSampler}");
/// assert_eq!(Sampler::trace_id_ratio_based(0.25).description(), "TraceIdRatioBased{0.25}");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Sampler {
    /// Samples every span (`RecordAndSample`).
    AlwaysOn,
    /// Samples nothing (`Drop`).
    AlwaysOff,
    /// Samples this fraction of traces, decided by the trace id alone, so every span of a
    /// trace gets the same decision and a higher ratio samples a superset of what a lower
    /// one samples. Ignores the parent's `sampled` flag (wrap it in
    /// [`Sampler::ParentBased`] to follow the parent). Build it with
    /// [`Sampler::trace_id_ratio_based`], which clamps the ratio to `[0, 1]`.
    ///
    /// The specification leaves the exact function open (it asks for a deterministic,
    /// monotone function of the trace id and lets samplers presume the rightmost 56 bits
    /// are random). Here: the last 8 bytes of the trace id, read as a big-endian `u64`,
    /// are sampled when below `ratio × 2^64`.
    TraceIdRatioBased(f64),
    /// Follows the parent's decision, with a separate sampler for each kind of parent.
    ParentBased(Box<ParentBased>),
    /// A user-defined sampler.
    Custom(Arc<dyn ShouldSample>),
}

/// The delegates of [`Sampler::ParentBased`].
#[derive(Debug, Clone)]
pub struct ParentBased {
    /// For spans without a parent.
    pub root: Sampler,
    /// Remote parent, sampled. Defaults to `AlwaysOn`.
    pub remote_parent_sampled: Sampler,
    /// Remote parent, not sampled. Defaults to `AlwaysOff`.
    pub remote_parent_not_sampled: Sampler,
    /// Local parent, sampled. Defaults to `AlwaysOn`.
    pub local_parent_sampled: Sampler,
    /// Local parent, not sampled. Defaults to `AlwaysOff`.
    pub local_parent_not_sampled: Sampler,
}

impl ParentBased {
    /// `root` for root spans and the specification's defaults for the others.
    pub fn new(root: Sampler) -> Self {
        ParentBased {
            root,
            remote_parent_sampled: Sampler::AlwaysOn,
            remote_parent_not_sampled: Sampler::AlwaysOff,
            local_parent_sampled: Sampler::AlwaysOn,
            local_parent_not_sampled: Sampler::AlwaysOff,
        }
    }
}

impl Default for Sampler {
    fn default() -> Self {
        Sampler::parent_based(Sampler::AlwaysOn)
    }
}

/// `ratio × 2^64` as the exclusive upper bound of sampled values; `None` means "all".
fn ratio_bound(ratio: f64) -> Option<u64> {
    if ratio.is_nan() || ratio <= 0.0 {
        return Some(0);
    }
    if ratio >= 1.0 {
        return None;
    }
    // 2^64 as f64 is exact; the product is below 2^64 and the cast saturates anyway.
    Some((ratio * 18_446_744_073_709_551_616.0) as u64)
}

impl Sampler {
    /// [`Sampler::TraceIdRatioBased`] with `ratio` clamped to `[0, 1]` (NaN becomes 0).
    pub fn trace_id_ratio_based(ratio: f64) -> Sampler {
        let ratio = if ratio.is_nan() {
            0.0
        } else {
            ratio.clamp(0.0, 1.0)
        };
        Sampler::TraceIdRatioBased(ratio)
    }

    /// [`Sampler::ParentBased`] with `root` and the default delegates.
    pub fn parent_based(root: Sampler) -> Sampler {
        Sampler::ParentBased(Box::new(ParentBased::new(root)))
    }

    /// The decision for a span with this parent and trace id (name, kind, attributes and
    /// links empty). The built-in samplers look at nothing else.
    pub fn decide(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> SamplingDecision {
        self.should_sample(&SamplingParams {
            parent,
            trace_id,
            name: "",
            kind: SpanKind::Internal,
            attributes: &[],
            links: &[],
        })
    }

    /// Whether a decision may depend on the span's attributes: only a custom sampler's
    /// can (the built-in ones look at the parent and the trace id). Builders of tracers
    /// whose sampler does not encode attributes as they are set, and show it none.
    pub(crate) fn reads_attributes(&self) -> bool {
        match self {
            Sampler::AlwaysOn | Sampler::AlwaysOff | Sampler::TraceIdRatioBased(_) => false,
            Sampler::ParentBased(p) => [
                &p.root,
                &p.remote_parent_sampled,
                &p.remote_parent_not_sampled,
                &p.local_parent_sampled,
                &p.local_parent_not_sampled,
            ]
            .iter()
            .any(|s| s.reads_attributes()),
            Sampler::Custom(_) => true,
        }
    }

    /// The decision for a new span.
    pub fn should_sample(&self, params: &SamplingParams<'_>) -> SamplingDecision {
        match self {
            Sampler::AlwaysOn => SamplingDecision::RecordAndSample,
            Sampler::AlwaysOff => SamplingDecision::Drop,
            Sampler::TraceIdRatioBased(ratio) => {
                let b = params.trace_id.to_bytes();
                let mut low = [0u8; 8];
                low.copy_from_slice(&b[8..]);
                let sampled = match ratio_bound(*ratio) {
                    None => true,
                    Some(bound) => u64::from_be_bytes(low) < bound,
                };
                if sampled {
                    SamplingDecision::RecordAndSample
                } else {
                    SamplingDecision::Drop
                }
            }
            Sampler::ParentBased(p) => {
                let delegate = match params.parent.filter(|c| c.is_valid()) {
                    None => &p.root,
                    Some(c) => match (c.is_remote, c.is_sampled()) {
                        (true, true) => &p.remote_parent_sampled,
                        (true, false) => &p.remote_parent_not_sampled,
                        (false, true) => &p.local_parent_sampled,
                        (false, false) => &p.local_parent_not_sampled,
                    },
                };
                delegate.should_sample(params)
            }
            Sampler::Custom(s) => s.should_sample(params),
        }
    }

    /// The specification's description string: `AlwaysOnSampler`, `AlwaysOffSampler`,
    /// `TraceIdRatioBased{0.5}`, `ParentBased{root:...,remoteParentSampled:...,...}`.
    pub fn description(&self) -> String {
        match self {
            Sampler::AlwaysOn => "AlwaysOnSampler".to_string(),
            Sampler::AlwaysOff => "AlwaysOffSampler".to_string(),
            Sampler::TraceIdRatioBased(r) => format!("TraceIdRatioBased{{{r}}}"),
            Sampler::ParentBased(p) => format!(
                "ParentBased{{root:{},remoteParentSampled:{},remoteParentNotSampled:{},\
                 localParentSampled:{},localParentNotSampled:{}}}",
                p.root.description(),
                p.remote_parent_sampled.description(),
                p.remote_parent_not_sampled.description(),
                p.local_parent_sampled.description(),
                p.local_parent_not_sampled.description(),
            ),
            Sampler::Custom(s) => s.description(),
        }
    }

    /// The sampler from the process environment; see [`from_env_with`](Self::from_env_with).
    pub fn from_env() -> (Sampler, Vec<Warning>) {
        Sampler::from_env_with(|k| std::env::var(k).ok())
    }

    /// The sampler named by `OTEL_TRACES_SAMPLER` (case-insensitive): `always_on`,
    /// `always_off`, `traceidratio`, `parentbased_always_on` (the default),
    /// `parentbased_always_off` or `parentbased_traceidratio`, with the ratio of the
    /// `traceidratio` ones from `OTEL_TRACES_SAMPLER_ARG` (a number in `[0, 1]`; 1.0 when
    /// unset). An unknown sampler falls back to the default and an invalid ratio to 1.0,
    /// each with a warning (returned, never logged). Empty values are unset.
    ///
    /// ```
    /// use otlp_sync::trace::Sampler;
    /// let env = |k: &str| match k {
    ///     "OTEL_TRACES_SAMPLER" => Some("parentbased_traceidratio".to_string()),
    ///     "OTEL_TRACES_SAMPLER_ARG" => Some("0.1".to_string()),
    ///     _ => None,
    /// };
    /// let (sampler, warnings) = Sampler::from_env_with(env);
    /// assert!(sampler.description().starts_with("ParentBased{root:TraceIdRatioBased{0.1},"));
    /// assert!(warnings.is_empty());
    /// ```
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> (Sampler, Vec<Warning>) {
        const VAR: &str = "OTEL_TRACES_SAMPLER";
        const ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut warnings = Vec::new();
        let ratio = |warnings: &mut Vec<Warning>| -> f64 {
            let Some(raw) = get(ARG) else {
                return 1.0;
            };
            match raw.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => r,
                _ => {
                    warnings.push(Warning::env(
                        ARG,
                        &raw,
                        "not a sampling ratio in [0, 1]; using 1.0",
                    ));
                    1.0
                }
            }
        };
        let Some(raw) = get(VAR) else {
            return (Sampler::default(), warnings);
        };
        let name = raw.trim().to_ascii_lowercase();
        let sampler = match name.as_str() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatioBased(ratio(&mut warnings)),
            "parentbased_always_on" => Sampler::parent_based(Sampler::AlwaysOn),
            "parentbased_always_off" => Sampler::parent_based(Sampler::AlwaysOff),
            "parentbased_traceidratio" => {
                Sampler::parent_based(Sampler::TraceIdRatioBased(ratio(&mut warnings)))
            }
            _ => {
                warnings.push(Warning::env(
                    VAR,
                    &raw,
                    "unknown or unsupported sampler; using parentbased_always_on",
                ));
                Sampler::default()
            }
        };
        (sampler, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SpanId;
    use crate::trace::context::{TRACE_FLAG_SAMPLED, TraceState};

    fn tid(low: u64) -> TraceId {
        let mut b = [0xabu8; 16];
        b[8..].copy_from_slice(&low.to_be_bytes());
        TraceId::from_bytes(b)
    }

    fn parent(remote: bool, sampled: bool) -> SpanContext {
        SpanContext::new(
            tid(1),
            SpanId::from_bytes([1; 8]),
            if sampled { TRACE_FLAG_SAMPLED } else { 0 },
            remote,
            TraceState::EMPTY,
        )
    }

    use SamplingDecision::{Drop, RecordAndSample, RecordOnly};

    #[test]
    fn always_on_and_off_ignore_the_parent() {
        for p in [None, Some(parent(true, false)), Some(parent(false, true))] {
            assert_eq!(
                Sampler::AlwaysOn.decide(p.as_ref(), tid(5)),
                RecordAndSample
            );
            assert_eq!(Sampler::AlwaysOff.decide(p.as_ref(), tid(5)), Drop);
        }
        assert_eq!(Sampler::AlwaysOn.description(), "AlwaysOnSampler");
        assert_eq!(Sampler::AlwaysOff.description(), "AlwaysOffSampler");
    }

    #[test]
    fn ratio_uses_the_low_eight_bytes() {
        let half = Sampler::trace_id_ratio_based(0.5);
        assert_eq!(half.decide(None, tid(0)), RecordAndSample);
        assert_eq!(half.decide(None, tid((1 << 63) - 1)), RecordAndSample);
        assert_eq!(half.decide(None, tid(1 << 63)), Drop);
        assert_eq!(half.decide(None, tid(u64::MAX)), Drop);
        // The high bytes do not matter.
        let mut b = [0u8; 16];
        b[15] = 1;
        assert_eq!(half.decide(None, TraceId::from_bytes(b)), RecordAndSample);
        // Ignores the parent's flag.
        let unsampled = parent(true, false);
        assert_eq!(half.decide(Some(&unsampled), tid(3)), RecordAndSample);
        assert_eq!(
            Sampler::trace_id_ratio_based(1.0).decide(None, tid(u64::MAX)),
            RecordAndSample
        );
        assert_eq!(
            Sampler::trace_id_ratio_based(0.0).decide(None, tid(0)),
            Drop
        );
    }

    #[test]
    fn ratio_is_monotone() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..2_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let id = tid(x);
            let mut sampled_before = false;
            for r in [0.0, 0.01, 0.1, 0.3, 0.5, 0.9, 0.99, 1.0] {
                let s = Sampler::trace_id_ratio_based(r).decide(None, id) == RecordAndSample;
                assert!(!sampled_before || s, "ratio {r} lost a trace");
                sampled_before = s;
            }
        }
    }

    #[test]
    fn ratio_is_clamped_and_described() {
        assert!(matches!(
            Sampler::trace_id_ratio_based(7.0),
            Sampler::TraceIdRatioBased(r) if r == 1.0
        ));
        assert!(matches!(
            Sampler::trace_id_ratio_based(f64::NAN),
            Sampler::TraceIdRatioBased(r) if r == 0.0
        ));
        assert_eq!(
            Sampler::trace_id_ratio_based(0.000_1).description(),
            "TraceIdRatioBased{0.0001}"
        );
        // A variant built by hand with a bad ratio still decides sanely.
        assert_eq!(Sampler::TraceIdRatioBased(-1.0).decide(None, tid(0)), Drop);
        assert_eq!(
            Sampler::TraceIdRatioBased(f64::NAN).decide(None, tid(0)),
            Drop
        );
    }

    #[test]
    fn parent_based_table() {
        let s = Sampler::parent_based(Sampler::AlwaysOff);
        assert_eq!(s.decide(None, tid(1)), Drop);
        assert_eq!(s.decide(Some(&parent(true, true)), tid(1)), RecordAndSample);
        assert_eq!(s.decide(Some(&parent(true, false)), tid(1)), Drop);
        assert_eq!(
            s.decide(Some(&parent(false, true)), tid(1)),
            RecordAndSample
        );
        assert_eq!(s.decide(Some(&parent(false, false)), tid(1)), Drop);
        // An invalid parent is no parent.
        assert_eq!(s.decide(Some(&SpanContext::INVALID), tid(1)), Drop);
        let on = Sampler::parent_based(Sampler::AlwaysOn);
        assert_eq!(
            on.decide(Some(&SpanContext::INVALID), tid(1)),
            RecordAndSample
        );

        // Each delegate is used for its case.
        #[derive(Debug)]
        struct Fixed(SamplingDecision, &'static str);
        impl ShouldSample for Fixed {
            fn should_sample(&self, _: &SamplingParams<'_>) -> SamplingDecision {
                self.0
            }
            fn description(&self) -> String {
                self.1.to_string()
            }
        }
        let custom = |d, n| Sampler::Custom(Arc::new(Fixed(d, n)));
        let s = Sampler::ParentBased(Box::new(ParentBased {
            root: custom(RecordOnly, "root"),
            remote_parent_sampled: custom(Drop, "rs"),
            remote_parent_not_sampled: custom(RecordAndSample, "rn"),
            local_parent_sampled: custom(Drop, "ls"),
            local_parent_not_sampled: custom(RecordOnly, "ln"),
        }));
        assert_eq!(s.decide(None, tid(1)), RecordOnly);
        assert_eq!(s.decide(Some(&parent(true, true)), tid(1)), Drop);
        assert_eq!(
            s.decide(Some(&parent(true, false)), tid(1)),
            RecordAndSample
        );
        assert_eq!(s.decide(Some(&parent(false, true)), tid(1)), Drop);
        assert_eq!(s.decide(Some(&parent(false, false)), tid(1)), RecordOnly);
        assert_eq!(
            s.description(),
            "ParentBased{root:root,remoteParentSampled:rs,remoteParentNotSampled:rn,\
             localParentSampled:ls,localParentNotSampled:ln}"
        );
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn from_env() {
        let d = |pairs| {
            let (s, w) = Sampler::from_env_with(env(pairs));
            (s.description(), w.len())
        };
        let default = Sampler::default().description();
        assert_eq!(d(&[]), (default.clone(), 0));
        assert_eq!(d(&[("OTEL_TRACES_SAMPLER", "  ")]), (default.clone(), 0));
        assert_eq!(
            d(&[("OTEL_TRACES_SAMPLER", "ALWAYS_OFF")]),
            ("AlwaysOffSampler".into(), 0)
        );
        assert_eq!(
            d(&[("OTEL_TRACES_SAMPLER", "always_on")]),
            ("AlwaysOnSampler".into(), 0)
        );
        assert_eq!(
            d(&[("OTEL_TRACES_SAMPLER", "traceidratio")]),
            ("TraceIdRatioBased{1}".into(), 0)
        );
        assert_eq!(
            d(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25")
            ]),
            ("TraceIdRatioBased{0.25}".into(), 0)
        );
        assert_eq!(
            d(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5")
            ]),
            ("TraceIdRatioBased{1}".into(), 1)
        );
        assert_eq!(
            d(&[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "half")
            ]),
            ("TraceIdRatioBased{1}".into(), 1)
        );
        let (s, w) = Sampler::from_env_with(env(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_always_off"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ]));
        assert!(w.is_empty(), "the argument is ignored by this sampler");
        assert!(
            s.description()
                .starts_with("ParentBased{root:AlwaysOffSampler,")
        );
        let (s, w) = Sampler::from_env_with(env(&[
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ]));
        assert!(w.is_empty());
        assert!(
            s.description()
                .starts_with("ParentBased{root:TraceIdRatioBased{0},")
        );
        let (s, w) = Sampler::from_env_with(env(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")]));
        assert_eq!(s.description(), default);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].source_name(), "OTEL_TRACES_SAMPLER");
        assert_eq!(w[0].value(), Some("jaeger_remote"));
    }
}
