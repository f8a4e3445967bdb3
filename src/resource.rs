//! The resource every record is exported under: the configured attributes plus what the
//! SDK knows about itself and can cheaply learn about the process and the host.
//!
//! | key | value | source |
//! | --- | --- | --- |
//! | `service.name` | always present | [`Config::resource_attributes`]: `OTEL_SERVICE_NAME` wins over a `service.name` in `OTEL_RESOURCE_ATTRIBUTES`; the builder wins over both; default `unknown_service:<executable name>` |
//! | `telemetry.sdk.name` | `"otlp-sync"` | always |
//! | `telemetry.sdk.language` | `"rust"` | always |
//! | `telemetry.sdk.version` | this crate's version | always |
//! | `service.instance.id` | a random UUID v4, one per process | detected |
//! | `process.pid` | the process id (int) | detected |
//! | `process.executable.name` | the executable's file name | detected, omitted when unknown |
//! | `host.name` | `/proc/sys/kernel/hostname`, else `/etc/hostname`, else `$HOSTNAME` | detected, omitted when none |
//! | `os.type` | `linux`, `darwin`, `windows`, `freebsd`, ... (semconv values) | detected, omitted on other targets |
//!
//! Precedence: the configured attributes (code settings and `OTEL_*` variables) win over
//! the SDK's and the detected ones; a key is never written twice. Detection reads at most
//! two small files, once per [`ResourceBuilder::build`], and can be turned off with
//! [`ResourceBuilder::detect`] (the `telemetry.sdk.*` attributes stay).
//!
//! ```
//! use otlp_sync::config::Config;
//! use otlp_sync::model::AnyValue;
//! use otlp_sync::resource::ResourceBuilder;
//!
//! let config = Config::builder().service_name("pump").build()?;
//! let resource = ResourceBuilder::from_config(&config).build();
//! let get = |k: &str| resource.attributes.iter().find(|kv| kv.key == k).map(|kv| &kv.value);
//! assert_eq!(get("service.name"), Some(&AnyValue::from("pump")));
//! assert_eq!(get("telemetry.sdk.language"), Some(&AnyValue::from("rust")));
//! assert!(matches!(get("process.pid"), Some(AnyValue::Int(_))));
//!
//! let bare = ResourceBuilder::from_config(&config).detect(false).build();
//! assert!(bare.attributes.iter().all(|kv| kv.key != "process.pid"));
//! # Ok::<(), otlp_sync::config::BuildError>(())
//! ```

use crate::config::Config;
use crate::model::{AnyValue, KeyValue, Resource, Str};
use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// `telemetry.sdk.name` of this SDK.
pub const SDK_NAME: &str = "otlp-sync";
/// `telemetry.sdk.language` of this SDK.
pub const SDK_LANGUAGE: &str = "rust";
/// `telemetry.sdk.version` of this SDK.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The largest host name read from a file; longer contents are ignored.
const MAX_HOSTNAME_BYTES: u64 = 1024;

/// What detection found about the process and the host. [`Detected::from_system`] asks
/// the system; tests build one by hand or with [`Detected::from_sources`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detected {
    /// `service.instance.id`.
    pub service_instance_id: Option<String>,
    /// `process.pid`.
    pub pid: Option<u32>,
    /// `process.executable.name`.
    pub executable_name: Option<String>,
    /// `host.name`.
    pub host_name: Option<String>,
    /// `os.type`.
    pub os_type: Option<&'static str>,
}

impl Detected {
    /// Detects everything from the running process and its host: the per-process
    /// instance id, [`std::process::id`], [`std::env::current_exe`], the host name files
    /// and `HOSTNAME`, and the compile-time target OS.
    pub fn from_system() -> Self {
        Detected::from_sources(read_small_file, |name| std::env::var(name).ok())
    }

    /// Like [`from_system`](Self::from_system), but the host name is looked up with
    /// `read_file` (given `/proc/sys/kernel/hostname`, then `/etc/hostname`) and `env`
    /// (given `HOSTNAME`) instead of the real file system and environment.
    pub fn from_sources(
        read_file: impl Fn(&Path) -> Option<String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        Detected {
            service_instance_id: Some(service_instance_id().to_owned()),
            pid: Some(std::process::id()),
            executable_name: executable_name(),
            host_name: host_name(read_file, env),
            os_type: os_type(),
        }
    }

    /// The detected attributes, in table order, skipping what is unknown.
    fn attributes(self) -> Vec<KeyValue> {
        let mut out = Vec::with_capacity(5);
        if let Some(id) = self.service_instance_id {
            out.push(KeyValue::new("service.instance.id", id));
        }
        if let Some(pid) = self.pid {
            out.push(KeyValue::new("process.pid", pid));
        }
        if let Some(exe) = self.executable_name {
            out.push(KeyValue::new("process.executable.name", exe));
        }
        if let Some(host) = self.host_name {
            out.push(KeyValue::new("host.name", host));
        }
        if let Some(os) = self.os_type {
            out.push(KeyValue::new("os.type", os));
        }
        out
    }
}

/// Builds the exporter's [`Resource`]; see the [module docs](self) for what goes in.
#[derive(Debug, Clone)]
pub struct ResourceBuilder {
    attributes: Vec<KeyValue>,
    detect: bool,
    detected: Option<Detected>,
    schema_url: Str,
}

impl ResourceBuilder {
    /// Starts from the configured attributes ([`Config::resource_attributes`], which
    /// always hold a `service.name`).
    pub fn from_config(config: &Config) -> Self {
        ResourceBuilder::from_attributes(config.resource_attributes().iter().cloned())
    }

    /// Starts from these attributes, which win over everything added later. Without a
    /// `service.name` among them the resource gets none: prefer
    /// [`from_config`](Self::from_config), which applies the `OTEL_*` rules.
    pub fn from_attributes(attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        ResourceBuilder {
            attributes: attributes.into_iter().collect(),
            detect: true,
            detected: None,
            schema_url: Cow::Borrowed(""),
        }
    }

    /// Whether to add the detected process, host and instance attributes.
    ///
    /// Defaults to `true`.
    pub fn detect(mut self, detect: bool) -> Self {
        self.detect = detect;
        self
    }

    /// Uses these detection results instead of asking the system (implies
    /// [`detect(true)`](Self::detect)).
    pub fn detected(mut self, detected: Detected) -> Self {
        self.detect = true;
        self.detected = Some(detected);
        self
    }

    /// The resource's schema URL.
    ///
    /// Defaults to none.
    pub fn schema_url(mut self, url: impl Into<Str>) -> Self {
        self.schema_url = url.into();
        self
    }

    /// The resource: the starting attributes, then the `telemetry.sdk.*` ones, then the
    /// detected ones, each key only once (the first wins).
    pub fn build(self) -> Resource {
        let mut attributes = self.attributes;
        let sdk = [
            KeyValue::new("telemetry.sdk.name", SDK_NAME),
            KeyValue::new("telemetry.sdk.language", SDK_LANGUAGE),
            KeyValue::new("telemetry.sdk.version", SDK_VERSION),
        ];
        let detected = if self.detect {
            self.detected
                .unwrap_or_else(Detected::from_system)
                .attributes()
        } else {
            Vec::new()
        };
        for kv in sdk.into_iter().chain(detected) {
            if !attributes.iter().any(|a| a.key == kv.key) {
                attributes.push(kv);
            }
        }
        let mut resource = Resource::new(attributes);
        resource.schema_url = self.schema_url;
        resource
    }
}

/// The resource for `config`, with detection on:
/// `ResourceBuilder::from_config(config).build()`.
pub fn detect(config: &Config) -> Resource {
    ResourceBuilder::from_config(config).build()
}

/// The value of a string attribute of `resource`, if it has one under `key`.
pub fn get_str<'a>(resource: &'a Resource, key: &str) -> Option<&'a str> {
    resource
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match &kv.value {
            AnyValue::Str(s) => Some(s.as_ref()),
            _ => None,
        })
}

/// This process's `service.instance.id`: a random UUID v4, the same for every call.
pub fn service_instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format_uuid_v4(random_u128()))
}

/// 128 random bits from a non-cryptographic source: two SipHash outputs keyed by fresh
/// [`RandomState`]s (randomly keyed per process by the standard library) over the time,
/// the pid and an address. Unique enough for an instance id; not for secrets.
fn random_u128() -> u128 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let local = 0u8;
    let address = core::ptr::from_ref(&local) as usize;
    let half = |salt: u64| {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(now);
        h.write_u32(std::process::id());
        h.write_usize(address);
        h.write_u64(salt);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

/// RFC 9562 (ex 4122) version 4 text form of `bits`: version and variant bits set,
/// lower-case hex in 8-4-4-4-12 groups.
fn format_uuid_v4(bits: u128) -> String {
    let bits = (bits & !(0xF << 76)) | (0x4 << 76); // version 4
    let bits = (bits & !(0x3 << 62)) | (0x2 << 62); // variant 10
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The executable's file name (`current_exe`), or `None`.
fn executable_name() -> Option<String> {
    std::env::current_exe()
        .ok()?
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
}

/// The host name from the kernel file, `/etc/hostname`, or `HOSTNAME`, trimmed; `None`
/// when all are missing or empty.
fn host_name(
    read_file: impl Fn(&Path) -> Option<String>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let clean = |s: String| {
        let t = s.trim();
        (!t.is_empty() && !t.contains(char::is_control)).then(|| t.to_owned())
    };
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .into_iter()
        .find_map(|p| read_file(Path::new(p)).and_then(clean))
        .or_else(|| env("HOSTNAME").and_then(clean))
}

/// Reads a file of at most [`MAX_HOSTNAME_BYTES`] as UTF-8; `None` on any error.
fn read_small_file(path: &Path) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    file.take(MAX_HOSTNAME_BYTES + 1)
        .read_to_string(&mut text)
        .ok()?;
    (text.len() as u64 <= MAX_HOSTNAME_BYTES).then_some(text)
}

/// The semantic-conventions `os.type` of the compile target, `None` when it has none.
fn os_type() -> Option<&'static str> {
    os_type_of(std::env::consts::OS)
}

/// Maps a Rust `target_os` to the semconv `os.type` value.
fn os_type_of(target_os: &str) -> Option<&'static str> {
    Some(match target_os {
        "linux" | "android" => "linux",
        "macos" | "ios" | "tvos" | "watchos" | "visionos" => "darwin",
        "windows" => "windows",
        "freebsd" => "freebsd",
        "netbsd" => "netbsd",
        "openbsd" => "openbsd",
        "dragonfly" => "dragonflybsd",
        "solaris" | "illumos" => "solaris",
        "aix" => "aix",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigBuilder;

    fn get<'a>(r: &'a Resource, k: &str) -> Option<&'a AnyValue> {
        r.attributes
            .iter()
            .find(|kv| kv.key == k)
            .map(|kv| &kv.value)
    }

    fn keys(r: &Resource) -> Vec<&str> {
        r.attributes.iter().map(|kv| kv.key.as_ref()).collect()
    }

    fn fake() -> Detected {
        Detected {
            service_instance_id: Some("11111111-2222-4333-8444-555555555555".into()),
            pid: Some(42),
            executable_name: Some("pumpd".into()),
            host_name: Some("rack-7".into()),
            os_type: Some("linux"),
        }
    }

    fn env_config(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ConfigBuilder::from_env_with(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .build()
        .unwrap()
    }

    #[test]
    fn all_attributes_in_order_without_duplicates() {
        let config = Config::builder().service_name("pump").build().unwrap();
        let r = ResourceBuilder::from_config(&config)
            .detected(fake())
            .build();
        assert_eq!(
            keys(&r),
            [
                "service.name",
                "telemetry.sdk.name",
                "telemetry.sdk.language",
                "telemetry.sdk.version",
                "service.instance.id",
                "process.pid",
                "process.executable.name",
                "host.name",
                "os.type",
            ]
        );
        assert_eq!(get(&r, "process.pid"), Some(&AnyValue::Int(42)));
        assert_eq!(get(&r, "host.name"), Some(&AnyValue::from("rack-7")));
        assert_eq!(
            get(&r, "telemetry.sdk.name"),
            Some(&AnyValue::from("otlp-sync"))
        );
        assert_eq!(
            get(&r, "telemetry.sdk.version"),
            Some(&AnyValue::from(SDK_VERSION))
        );
        assert_eq!(r.schema_url, "");
    }

    #[test]
    fn env_service_name_wins_over_resource_attributes_variable() {
        let config = env_config(&[
            ("OTEL_SERVICE_NAME", "from-service-name"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs,host.name=env-host",
            ),
        ]);
        let r = ResourceBuilder::from_config(&config)
            .detected(fake())
            .build();
        assert_eq!(get_str(&r, "service.name"), Some("from-service-name"));
        // User/env attributes win over detected ones.
        assert_eq!(get_str(&r, "host.name"), Some("env-host"));
        assert_eq!(keys(&r).iter().filter(|k| **k == "host.name").count(), 1);
    }

    #[test]
    fn resource_attributes_variable_names_the_service_without_service_name() {
        let config = env_config(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=attrs-svc,os.type=plan9,telemetry.sdk.language=cobol",
        )]);
        let r = ResourceBuilder::from_config(&config)
            .detected(fake())
            .build();
        assert_eq!(get_str(&r, "service.name"), Some("attrs-svc"));
        assert_eq!(get_str(&r, "os.type"), Some("plan9"));
        assert_eq!(get_str(&r, "telemetry.sdk.language"), Some("cobol"));
    }

    #[test]
    fn default_service_name_is_unknown_service_and_the_executable() {
        let config = env_config(&[]);
        let r = ResourceBuilder::from_config(&config).detect(false).build();
        let name = get_str(&r, "service.name").unwrap();
        let exe = executable_name().unwrap();
        let stem = Path::new(&exe).file_stem().unwrap().to_string_lossy();
        assert_eq!(name, format!("unknown_service:{stem}"));
    }

    #[test]
    fn detection_off_keeps_only_configured_and_sdk_attributes() {
        let config = Config::builder().service_name("pump").build().unwrap();
        let r = ResourceBuilder::from_config(&config)
            .detect(false)
            .schema_url("https://opentelemetry.io/schemas/1.30.0")
            .build();
        assert_eq!(
            keys(&r),
            [
                "service.name",
                "telemetry.sdk.name",
                "telemetry.sdk.language",
                "telemetry.sdk.version"
            ]
        );
        assert_eq!(r.schema_url, "https://opentelemetry.io/schemas/1.30.0");
    }

    #[test]
    fn unknown_detected_values_are_omitted() {
        let r = ResourceBuilder::from_attributes([])
            .detected(Detected {
                pid: Some(7),
                ..Detected::default()
            })
            .build();
        assert_eq!(get(&r, "process.pid"), Some(&AnyValue::Int(7)));
        for k in [
            "host.name",
            "os.type",
            "process.executable.name",
            "service.instance.id",
        ] {
            assert!(get(&r, k).is_none(), "{k}");
        }
    }

    #[test]
    fn host_name_sources_in_order() {
        let files = |kernel: Option<&'static str>, etc: Option<&'static str>| {
            move |p: &Path| match p.to_str() {
                Some("/proc/sys/kernel/hostname") => kernel.map(String::from),
                Some("/etc/hostname") => etc.map(String::from),
                _ => None,
            }
        };
        let env =
            |v: Option<&'static str>| move |k: &str| (k == "HOSTNAME").then_some(v?.to_owned());
        assert_eq!(
            host_name(files(Some("kernel\n"), Some("etc")), env(Some("var"))),
            Some("kernel".into())
        );
        assert_eq!(
            host_name(files(None, Some("  etc \n")), env(Some("var"))),
            Some("etc".into())
        );
        assert_eq!(
            host_name(files(Some("\n"), None), env(Some("var"))),
            Some("var".into())
        );
        assert_eq!(host_name(files(None, None), env(None)), None);
        assert_eq!(
            host_name(files(Some("a\u{7}b"), None), env(Some(" "))),
            None
        );
    }

    #[test]
    fn from_sources_uses_the_fakes() {
        let d = Detected::from_sources(|_| None, |k| (k == "HOSTNAME").then(|| "fake-host".into()));
        assert_eq!(d.host_name.as_deref(), Some("fake-host"));
        assert_eq!(d.pid, Some(std::process::id()));
        assert_eq!(
            d.service_instance_id.as_deref(),
            Some(service_instance_id())
        );
    }

    #[test]
    fn real_detection_finds_pid_and_os() {
        let d = Detected::from_system();
        assert_eq!(d.pid, Some(std::process::id()));
        #[cfg(target_os = "linux")]
        assert_eq!(d.os_type, Some("linux"));
        assert!(d.executable_name.is_some());
    }

    #[test]
    fn instance_id_is_a_stable_uuid_v4() {
        let id = service_instance_id();
        assert_eq!(id, service_instance_id());
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(id.chars().all(|c| !c.is_ascii_uppercase()));
        assert_eq!(&groups[2][..1], "4");
        assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn uuid_formatting_sets_version_and_variant() {
        assert_eq!(format_uuid_v4(0), "00000000-0000-4000-8000-000000000000");
        assert_eq!(
            format_uuid_v4(u128::MAX),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_ne!(random_u128(), random_u128());
    }

    #[test]
    fn os_types_follow_semconv() {
        assert_eq!(os_type_of("linux"), Some("linux"));
        assert_eq!(os_type_of("macos"), Some("darwin"));
        assert_eq!(os_type_of("windows"), Some("windows"));
        assert_eq!(os_type_of("dragonfly"), Some("dragonflybsd"));
        assert_eq!(os_type_of("illumos"), Some("solaris"));
        assert_eq!(os_type_of("espidf"), None);
    }

    #[test]
    fn small_file_reader_bounds_and_errors() {
        assert_eq!(read_small_file(Path::new("/nonexistent/otlp-sync/x")), None);
        let dir = std::env::temp_dir().join(format!("otlp-sync-res-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small");
        std::fs::write(&small, "box-1\n").unwrap();
        assert_eq!(read_small_file(&small).as_deref(), Some("box-1\n"));
        let big = dir.join("big");
        std::fs::write(&big, "x".repeat(2000)).unwrap();
        assert_eq!(read_small_file(&big), None);
        std::fs::remove_dir_all(&dir).ok();
    }
}
