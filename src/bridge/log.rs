//! The `log` crate bridge: [`OtlpLogger`] turns `log` records into OTLP log
//! records (feature `log`).
//!
//! | `log` | OTLP log record |
//! | --- | --- |
//! | level | severity number (`Error` 17, `Warn` 13, `Info` 9, `Debug` 5, `Trace` 1) and text (`"ERROR"`, `"WARN"`, `"INFO"`, `"DEBUG"`, `"TRACE"`) |
//! | formatted message | body (a string; a message without arguments is not copied) |
//! | target | the instrumentation scope name ([`TargetMode::Scope`], the default, as the official Rust SDK does), or the attribute `log.target` under one scope ([`TargetMode::Attribute`]) |
//! | key-values (`log::info!(user = 42; "...")`) | attributes: integers as `int` (a `u64`/`u128`/`i128` that does not fit an `i64` as its decimal string), floats as `double`, `bool`, strings and chars as `string`, anything else by its `Display` form |
//! | module path, file, line | `code.namespace`, `code.file.path`, `code.line.number`, only with [`OtlpLogger::code_attributes`] (off by default: three more attributes per record) |
//! | - | `time_unix_nano` and `observed_time_unix_nano`: now; trace context: the current span's |
//!
//! `log.target` is not a semantic-conventions name (there is none for a logger's target);
//! it is the name `tracing-log` and other bridges use. `code.namespace` is deprecated in
//! the conventions in favour of a fully qualified `code.function.name`, which `log` does not
//! provide; a module path is a namespace, so the older name is the honest one.
//!
//! # No loops
//!
//! Records whose target is `otlp_sync` or starts with `otlp_sync::` (this crate's own
//! diagnostics, feature `diagnostics`) are never turned into log records, whatever the
//! configuration: exporting them could produce more of them. By default the targets
//! `ureq`, `ureq_proto` and `rustls` (and their submodules) are also left out: the export
//! thread's HTTP client logs through them at `Debug` and `Trace`, so at those levels every
//! export would cause another. [`OtlpLogger::excluded_targets`] replaces that list.
//!
//! # With the `diagnostics` feature
//!
//! The crate's diagnostics go to the `log` facade under target `otlp_sync`. When an
//! [`OtlpLogger`] is the only global logger they go nowhere (the bridge drops them, see
//! above). To see them, install a composite logger that sends `otlp_sync` records to
//! another logger (stderr, a file) and everything else to the [`OtlpLogger`]: it
//! implements [`::log::Log`], so it can be one branch of a user's own logger.
//!
//! ```
//! use log::Log;
//! use otlp_sync::bridge::log::{OtlpLogger, TargetMode};
//! use otlp_sync::logs::Logger;
//!
//! // Normally: OtlpLogger::new(exporter.logger("app")).install()?;
//! let bridge = OtlpLogger::new(Logger::noop())
//!     .max_level(log::LevelFilter::Debug)
//!     .target_mode(TargetMode::Attribute);
//! let meta = |target| log::Metadata::builder().level(log::Level::Info).target(target).build();
//! assert!(!bridge.enabled(&meta("app")), "a no-op logger enables nothing");
//! ```

use crate::clock::unix_nanos_now;
use crate::logs::Logger;
use crate::model::{AnyValue, InstrumentationScope, KeyValue, LogRecord, Severity, Str};
use ::log::kv::{self, VisitSource, VisitValue};
use ::log::{Level, LevelFilter, Log, Metadata, Record, SetLoggerError};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

/// The target prefix that is always excluded: this crate's own diagnostics.
pub const OWN_TARGET: &str = "otlp_sync";

/// The targets excluded by default besides [`OWN_TARGET`]: the export thread's HTTP and
/// TLS stacks.
pub const DEFAULT_EXCLUDED_TARGETS: [&str; 3] = ["ureq", "ureq_proto", "rustls"];

/// How many per-target scopes are kept; records of further targets get a scope of their
/// own each (correct, one allocation more).
const MAX_CACHED_SCOPES: usize = 1024;

/// Where a record's target goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetMode {
    /// The target is the instrumentation scope name (what the official Rust SDK does);
    /// the version and attributes are the logger's. An empty target uses the logger's
    /// scope.
    #[default]
    Scope,
    /// All records share the logger's scope; the target is the attribute `log.target`.
    Attribute,
}

/// A [`::log::Log`] that emits through a [`Logger`]; see the [module docs](self).
pub struct OtlpLogger {
    logger: Logger,
    max_level: LevelFilter,
    target_mode: TargetMode,
    code_attributes: bool,
    excluded: Vec<Str>,
    scopes: RwLock<HashMap<Box<str>, Arc<InstrumentationScope>>>,
}

impl fmt::Debug for OtlpLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpLogger")
            .field("logger", &self.logger)
            .field("max_level", &self.max_level)
            .field("target_mode", &self.target_mode)
            .field("code_attributes", &self.code_attributes)
            .field("excluded", &self.excluded)
            .finish_non_exhaustive()
    }
}

impl OtlpLogger {
    /// A bridge emitting through `logger` (its sender, and its scope for
    /// [`TargetMode::Attribute`] or as the template for per-target scopes).
    pub fn new(logger: Logger) -> OtlpLogger {
        OtlpLogger {
            logger,
            max_level: LevelFilter::Info,
            target_mode: TargetMode::Scope,
            code_attributes: false,
            excluded: DEFAULT_EXCLUDED_TARGETS
                .iter()
                .map(|t| Cow::Borrowed(*t))
                .collect(),
            scopes: RwLock::new(HashMap::new()),
        }
    }

    /// The most verbose level turned into records.
    ///
    /// Defaults to [`LevelFilter::Info`].
    pub fn max_level(mut self, level: LevelFilter) -> Self {
        self.max_level = level;
        self
    }

    /// Where the target goes.
    ///
    /// Defaults to [`TargetMode::Scope`].
    pub fn target_mode(mut self, mode: TargetMode) -> Self {
        self.target_mode = mode;
        self
    }

    /// Whether to add the module path, file and line as `code.*` attributes.
    ///
    /// Defaults to `false`.
    pub fn code_attributes(mut self, on: bool) -> Self {
        self.code_attributes = on;
        self
    }

    /// Replaces the list of excluded targets: a record is dropped when its target equals
    /// one of them or starts with one followed by `::`. [`OWN_TARGET`] is always excluded.
    ///
    /// Defaults to [`DEFAULT_EXCLUDED_TARGETS`].
    pub fn excluded_targets<S: Into<Str>>(mut self, targets: impl IntoIterator<Item = S>) -> Self {
        self.excluded = targets.into_iter().map(Into::into).collect();
        self
    }

    /// The configured level filter.
    pub fn level_filter(&self) -> LevelFilter {
        self.max_level
    }

    /// Makes this the global `log` logger and sets `log`'s max level to
    /// [`max_level`](Self::max_level).
    ///
    /// # Errors
    /// When a global logger is already set.
    pub fn install(self) -> Result<(), SetLoggerError> {
        let level = self.max_level;
        ::log::set_boxed_logger(Box::new(self))?;
        ::log::set_max_level(level);
        Ok(())
    }

    fn excluded(&self, target: &str) -> bool {
        under(target, OWN_TARGET) || self.excluded.iter().any(|p| under(target, p))
    }

    /// The scope for `target` in [`TargetMode::Scope`].
    fn scope_for(&self, target: &str) -> Arc<InstrumentationScope> {
        let base = self.logger.scope();
        if target.is_empty() || target == base.name {
            return Arc::clone(base);
        }
        let read = self.scopes.read().unwrap_or_else(|e| e.into_inner());
        if let Some(scope) = read.get(target) {
            return Arc::clone(scope);
        }
        let full = read.len() >= MAX_CACHED_SCOPES;
        drop(read);
        let scope = Arc::new(InstrumentationScope {
            name: Cow::Owned(target.to_owned()),
            ..(**base).clone()
        });
        if !full {
            let mut write = self.scopes.write().unwrap_or_else(|e| e.into_inner());
            return Arc::clone(write.entry(target.into()).or_insert(scope));
        }
        scope
    }

    /// The OTLP record for `record` (without the target-as-scope part).
    fn convert(&self, record: &Record<'_>) -> LogRecord {
        let now = unix_nanos_now();
        let level = record.level();
        let body = match record.args().as_str() {
            Some(s) => AnyValue::Str(Cow::Borrowed(s)),
            None => AnyValue::Str(Cow::Owned(fmt::format(*record.args()))),
        };
        let mut attributes = Vec::new();
        if self.target_mode == TargetMode::Attribute && !record.target().is_empty() {
            attributes.push(KeyValue::new("log.target", record.target().to_owned()));
        }
        if self.code_attributes {
            let module = record
                .module_path_static()
                .map(Cow::Borrowed)
                .or_else(|| record.module_path().map(|m| Cow::Owned(m.to_owned())));
            if let Some(m) = module {
                attributes.push(KeyValue::new("code.namespace", AnyValue::Str(m)));
            }
            let file = record
                .file_static()
                .map(Cow::Borrowed)
                .or_else(|| record.file().map(|f| Cow::Owned(f.to_owned())));
            if let Some(f) = file {
                attributes.push(KeyValue::new("code.file.path", AnyValue::Str(f)));
            }
            if let Some(line) = record.line() {
                attributes.push(KeyValue::new("code.line.number", line));
            }
        }
        let mut visitor = Pairs(&mut attributes);
        // Our visitor never fails; a failing source only loses its remaining pairs.
        let _ = record.key_values().visit(&mut visitor);
        LogRecord {
            time_unix_nano: now,
            observed_time_unix_nano: now,
            severity_number: severity_of(level),
            severity_text: Cow::Borrowed(level.as_str()),
            body,
            attributes,
            ..LogRecord::default()
        }
    }
}

impl Log for OtlpLogger {
    /// Level at most the max level, a target that is not excluded, and a logger that is
    /// not a no-op. No allocation, no lock.
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.max_level
            && self.logger.is_enabled()
            && !self.excluded(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let out = self.convert(record);
        match self.target_mode {
            TargetMode::Scope => self.logger.emit_in(&self.scope_for(record.target()), out),
            TargetMode::Attribute => self.logger.emit(out),
        }
    }

    /// Does nothing: records are exported by the exporter's thread; use
    /// [`Exporter::flush`](crate::exporter::Exporter::flush) to wait for them.
    fn flush(&self) {}
}

/// `target` is `prefix` or below it (`prefix::...`).
fn under(target: &str, prefix: &str) -> bool {
    match target.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with("::"),
        None => false,
    }
}

/// The OTLP severity of a `log` level.
pub fn severity_of(level: Level) -> Severity {
    match level {
        Level::Error => Severity::ERROR,
        Level::Warn => Severity::WARN,
        Level::Info => Severity::INFO,
        Level::Debug => Severity::DEBUG,
        Level::Trace => Severity::TRACE,
    }
}

/// Collects key-value pairs as attributes.
struct Pairs<'a>(&'a mut Vec<KeyValue>);

impl<'kvs> VisitSource<'kvs> for Pairs<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let key: Str = match key.to_static_str() {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(key.as_str().to_owned()),
        };
        self.0.push(KeyValue {
            key,
            value: any_value(&value),
        });
        Ok(())
    }
}

/// A `log` value as an OTLP value, keeping its type where OTLP has one.
fn any_value(value: &kv::Value<'_>) -> AnyValue {
    let mut v = ValueOf(None);
    match value.visit(&mut v) {
        Ok(()) => v.0.unwrap_or(AnyValue::Empty),
        Err(_) => AnyValue::Str(Cow::Owned(value.to_string())),
    }
}

struct ValueOf(Option<AnyValue>);

impl ValueOf {
    fn set(&mut self, v: AnyValue) -> Result<(), kv::Error> {
        self.0 = Some(v);
        Ok(())
    }
}

/// An integer as `Int` when it fits an `i64`, otherwise as its decimal string.
fn int_or_text<T: TryInto<i64> + fmt::Display + Copy>(v: T) -> AnyValue {
    match v.try_into() {
        Ok(i) => AnyValue::Int(i),
        Err(_) => AnyValue::Str(Cow::Owned(v.to_string())),
    }
}

impl<'v> VisitValue<'v> for ValueOf {
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        self.set(AnyValue::Str(Cow::Owned(value.to_string())))
    }
    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.set(AnyValue::Empty)
    }
    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.set(int_or_text(value))
    }
    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.set(AnyValue::Int(value))
    }
    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        self.set(int_or_text(value))
    }
    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        self.set(int_or_text(value))
    }
    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.set(AnyValue::Double(value))
    }
    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.set(AnyValue::Bool(value))
    }
    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.set(AnyValue::Str(Cow::Owned(value.to_owned())))
    }
    fn visit_char(&mut self, value: char) -> Result<(), kv::Error> {
        self.set(AnyValue::Str(Cow::Owned(value.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Pipeline, PipelineConfig};
    use crate::transport::{Request, Response, Transport, TransportError};

    struct Sink;
    impl Transport for Sink {
        fn send(&mut self, _: &Request<'_>) -> Result<Response, TransportError> {
            Ok(Response {
                status: 200,
                ..Default::default()
            })
        }
    }

    fn live() -> (Pipeline, OtlpLogger) {
        let p = Pipeline::start(
            PipelineConfig::default(),
            Default::default(),
            Box::new(Sink),
        )
        .unwrap();
        let l = Logger::new(
            Some(p.sender()),
            Arc::new(InstrumentationScope {
                name: "app".into(),
                version: "1.2".into(),
                ..Default::default()
            }),
        );
        (p, OtlpLogger::new(l))
    }

    fn meta(level: Level, target: &str) -> Metadata<'_> {
        Metadata::builder().level(level).target(target).build()
    }

    #[test]
    fn prefix_matching_respects_module_boundaries() {
        assert!(under("otlp_sync", "otlp_sync"));
        assert!(under("otlp_sync::pipeline", "otlp_sync"));
        assert!(!under("otlp_sync_extra", "otlp_sync"));
        assert!(!under("otlp", "otlp_sync"));
        assert!(!under("my::otlp_sync", "otlp_sync"));
    }

    #[test]
    fn enabled_filters_level_and_targets() {
        let (_p, b) = live();
        assert!(b.enabled(&meta(Level::Info, "app")));
        assert!(b.enabled(&meta(Level::Error, "app::db")));
        assert!(!b.enabled(&meta(Level::Debug, "app")));
        assert!(!b.enabled(&meta(Level::Error, "otlp_sync")));
        assert!(!b.enabled(&meta(Level::Error, "otlp_sync::exporter")));
        assert!(!b.enabled(&meta(Level::Error, "ureq::pool")));
        assert!(b.enabled(&meta(Level::Error, "ureqx")));
        let b = b.excluded_targets(["noisy"]).max_level(LevelFilter::Trace);
        assert!(b.enabled(&meta(Level::Trace, "ureq::pool")));
        assert!(!b.enabled(&meta(Level::Error, "noisy::a")));
        assert!(
            !b.enabled(&meta(Level::Error, "otlp_sync")),
            "always excluded"
        );
        assert_eq!(b.level_filter(), LevelFilter::Trace);
    }

    #[test]
    fn scopes_are_cached_per_target_and_keep_the_version() {
        let (_p, b) = live();
        let a1 = b.scope_for("db");
        let a2 = b.scope_for("db");
        assert!(Arc::ptr_eq(&a1, &a2));
        assert_eq!(a1.name, "db");
        assert_eq!(a1.version, "1.2");
        assert!(Arc::ptr_eq(&b.scope_for(""), b.logger.scope()));
        assert!(Arc::ptr_eq(&b.scope_for("app"), b.logger.scope()));
        assert!(!Arc::ptr_eq(&b.scope_for("net"), &a1));
    }

    #[test]
    fn scope_cache_is_bounded() {
        let (_p, b) = live();
        for i in 0..MAX_CACHED_SCOPES + 10 {
            let s = b.scope_for(&format!("t{i}"));
            assert_eq!(s.name, format!("t{i}"));
        }
        assert_eq!(b.scopes.read().unwrap().len(), MAX_CACHED_SCOPES);
        let extra = format!("t{}", MAX_CACHED_SCOPES + 5);
        assert!(!Arc::ptr_eq(&b.scope_for(&extra), &b.scope_for(&extra)));
    }

    #[test]
    fn converts_message_level_kvs_and_code_attributes() {
        let (_p, b) = live();
        let b = b.code_attributes(true).target_mode(TargetMode::Attribute);
        let kvs: [(&str, kv::Value<'_>); 9] = [
            ("i", kv::Value::from(-3i64)),
            ("u", kv::Value::from(7u64)),
            ("big", kv::Value::from(u64::MAX)),
            ("f", kv::Value::from(0.5f64)),
            ("b", kv::Value::from(true)),
            ("s", kv::Value::from("txt")),
            ("c", kv::Value::from('z')),
            ("d", kv::Value::from_display(&std::net::Ipv4Addr::LOCALHOST)),
            ("n", kv::Value::null()),
        ];
        let out = b.convert(
            &Record::builder()
                .level(Level::Warn)
                .target("app::db")
                .module_path_static(Some("app::db"))
                .file(Some("src/db.rs"))
                .line(Some(12))
                .key_values(&kvs)
                .args(format_args!("hello {}", 5))
                .build(),
        );
        assert_eq!(out.body, AnyValue::from("hello 5".to_string()));
        assert_eq!(out.severity_number, Severity::WARN);
        assert_eq!(out.severity_text, "WARN");
        assert!(out.time_unix_nano > 0);
        assert_eq!(out.time_unix_nano, out.observed_time_unix_nano);
        let get = |k: &str| {
            out.attributes
                .iter()
                .find(|kv| kv.key == k)
                .map(|kv| kv.value.clone())
                .unwrap_or_else(|| panic!("no {k}"))
        };
        assert_eq!(get("log.target"), AnyValue::from("app::db"));
        assert_eq!(get("code.namespace"), AnyValue::from("app::db"));
        assert_eq!(get("code.file.path"), AnyValue::from("src/db.rs"));
        assert_eq!(get("code.line.number"), AnyValue::Int(12));
        assert_eq!(get("i"), AnyValue::Int(-3));
        assert_eq!(get("u"), AnyValue::Int(7));
        assert_eq!(get("big"), AnyValue::from(u64::MAX.to_string()));
        assert_eq!(get("f"), AnyValue::Double(0.5));
        assert_eq!(get("b"), AnyValue::Bool(true));
        assert_eq!(get("s"), AnyValue::from("txt"));
        assert_eq!(get("c"), AnyValue::from("z"));
        assert_eq!(get("d"), AnyValue::from("127.0.0.1"));
        assert_eq!(get("n"), AnyValue::Empty);
        assert_eq!(out.attributes.len(), 13);
    }

    #[test]
    fn plain_message_is_borrowed_and_no_code_attributes_by_default() {
        let (_p, b) = live();
        let out = b.convert(
            &Record::builder()
                .level(Level::Info)
                .target("app")
                .line(Some(1))
                .args(format_args!("static text"))
                .build(),
        );
        assert!(matches!(
            out.body,
            AnyValue::Str(Cow::Borrowed("static text"))
        ));
        assert!(out.attributes.is_empty());
    }

    #[test]
    fn severities_map_to_the_otlp_numbers() {
        assert_eq!(severity_of(Level::Error).0, 17);
        assert_eq!(severity_of(Level::Warn).0, 13);
        assert_eq!(severity_of(Level::Info).0, 9);
        assert_eq!(severity_of(Level::Debug).0, 5);
        assert_eq!(severity_of(Level::Trace).0, 1);
    }

    #[test]
    fn log_reaches_the_pipeline_and_excluded_records_do_not() {
        let (p, b) = live();
        let log = |level: Level, target: &str| {
            b.log(
                &Record::builder()
                    .level(level)
                    .target(target)
                    .args(format_args!("x"))
                    .build(),
            );
        };
        log(Level::Error, "app::x");
        log(Level::Error, "otlp_sync::pipeline");
        log(Level::Error, "otlp_sync");
        log(Level::Debug, "app");
        assert_eq!(p.stats().logs.offered, 1);
        b.flush();
    }
}
