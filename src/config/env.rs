//! Pure parsers for `OTEL_*` values: percent-decoding, headers, resource attributes,
//! booleans, integers, and OTLP/HTTP endpoint URLs. Nothing here reads the environment.

use super::error::Warning;
use super::headers::{Headers, is_valid_name, is_valid_value};
use crate::model::Signal;

/// Percent-decodes `s` (`%XX` escapes; everything else literal, `+` included). `None` when
/// an escape is malformed or the decoded bytes are not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_val(*bytes.get(i + 1)?)?;
                let lo = hex_val(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A boolean per the spec: only a case-insensitive `true` is true; anything other than
/// `false` also warns.
pub(crate) fn parse_bool(var: &str, value: &str, warnings: &mut Vec<Warning>) -> bool {
    let v = value.trim();
    if v.eq_ignore_ascii_case("true") {
        true
    } else {
        if !v.eq_ignore_ascii_case("false") {
            warnings.push(Warning::env(
                var,
                value,
                "not a boolean (expected true or false); using false",
            ));
        }
        false
    }
}

/// A non-negative integer. Negative or unparsable values warn and give `None` (unset).
pub(crate) fn parse_u64(var: &str, value: &str, warnings: &mut Vec<Warning>) -> Option<u64> {
    let v = value.trim();
    match v.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            let reason = if v.parse::<i128>().is_ok_and(|n| n < 0) {
                "negative; ignored, the next setting or the default applies"
            } else {
                "not a non-negative integer; ignored, the next setting or the default applies"
            };
            warnings.push(Warning::env(var, value, reason));
            None
        }
    }
}

/// `OTEL_EXPORTER_OTLP_[S_]HEADERS`: `key=value` pairs, comma separated, values
/// percent-decoded, keys and values trimmed. A malformed pair is skipped with a warning
/// that never contains the value (nor the key, when the key is malformed).
pub(crate) fn parse_headers(var: &str, value: &str, warnings: &mut Vec<Warning>) -> Headers {
    let mut headers = Headers::new();
    for (n, item) in value.split(',').enumerate() {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let entry = n + 1;
        let Some((k, v)) = item.split_once('=') else {
            warnings.push(super::error::Warning::new(
                super::error::Source::Env(var.to_string()),
                None,
                format!("entry {entry} is not a key=value pair; skipped"),
            ));
            continue;
        };
        let k = k.trim();
        if !is_valid_name(k) {
            warnings.push(super::error::Warning::new(
                super::error::Source::Env(var.to_string()),
                None,
                format!(
                    "entry {entry}: the header name is empty or not a valid HTTP token; skipped"
                ),
            ));
            continue;
        }
        let reason = match percent_decode(v.trim()) {
            None => "is not valid percent-encoded UTF-8",
            Some(decoded) if !is_valid_value(decoded.trim()) => "contains a control character",
            Some(decoded) => {
                headers.insert(k, decoded.trim());
                continue;
            }
        };
        warnings.push(super::error::Warning::new(
            super::error::Source::Env(var.to_string()),
            None,
            format!("the value of header {k:?} {reason}; header skipped"),
        ));
    }
    headers
}

/// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs, comma separated, keys and values
/// percent-decoded and trimmed; empty entries are skipped. Any error rejects the whole value
/// (the caller discards the variable).
pub(crate) fn parse_resource_attributes(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!("entry {item:?} is not a key=value pair"));
        };
        let key = percent_decode(k.trim())
            .ok_or_else(|| format!("key {:?} is not valid percent-encoded UTF-8", k.trim()))?;
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(format!("entry {item:?} has an empty key"));
        }
        let val = percent_decode(v.trim())
            .ok_or_else(|| format!("value of {key:?} is not valid percent-encoded UTF-8"))?;
        let val = val.trim().to_string();
        match out.iter_mut().find(|(k2, _)| *k2 == key) {
            Some(slot) => slot.1 = val,
            None => out.push((key, val)),
        }
    }
    Ok(out)
}

/// Why an endpoint was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// The scheme is neither http nor https.
    Scheme,
    /// Not a usable absolute URL; the reason.
    Invalid(&'static str),
}

/// Byte offsets into a checked endpoint URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UrlParts {
    /// End of the authority (`scheme://authority`), where the path starts.
    authority_end: usize,
    /// End of the path, where `?query` or `#fragment` start (or the string ends).
    path_end: usize,
}

/// Checks an `http`/`https` URL: scheme, non-empty host, numeric port, no whitespace or
/// control characters. The URL itself is never rewritten here.
fn check_url(url: &str) -> Result<UrlParts, UrlError> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::Invalid(
            "contains whitespace or a control character",
        ));
    }
    let Some(scheme_end) = url.find("://") else {
        return Err(UrlError::Invalid(
            "not an absolute URL (expected http://host:port or https://host:port)",
        ));
    };
    let scheme = &url[..scheme_end];
    let valid_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !valid_scheme {
        return Err(UrlError::Invalid(
            "not an absolute URL (expected http://host:port or https://host:port)",
        ));
    }
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(UrlError::Scheme);
    }
    let auth_start = scheme_end + 3;
    let rest = &url[auth_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let authority_end = auth_start + authority_len;
    let path_len = url[authority_end..]
        .find(['?', '#'])
        .unwrap_or(url.len() - authority_end);
    let path_end = authority_end + path_len;

    let host_port = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (host, port) = if let Some(after_bracket) = host_port.strip_prefix('[') {
        let Some(close) = after_bracket.find(']') else {
            return Err(UrlError::Invalid("unterminated IPv6 address"));
        };
        let host = &after_bracket[..close];
        let tail = &after_bracket[close + 1..];
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p),
            None if tail.is_empty() => None,
            None => return Err(UrlError::Invalid("unexpected text after the IPv6 address")),
        };
        (host, port)
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::Invalid("has no host"));
    }
    if let Some(port) = port {
        // An empty port means the scheme's default (80 or 443), as the spec says.
        if !port.is_empty()
            && (!port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err())
        {
            return Err(UrlError::Invalid(
                "the port is not a number from 0 to 65535",
            ));
        }
    }
    Ok(UrlParts {
        authority_end,
        path_end,
    })
}

/// A per-signal endpoint, used as-is except that an empty path becomes `/`.
pub(crate) fn resolve_signal_endpoint(url: &str) -> Result<String, UrlError> {
    let parts = check_url(url)?;
    if parts.path_end == parts.authority_end {
        let mut out = String::with_capacity(url.len() + 1);
        out.push_str(&url[..parts.authority_end]);
        out.push('/');
        out.push_str(&url[parts.authority_end..]);
        Ok(out)
    } else {
        Ok(url.to_string())
    }
}

/// A base endpoint with `v1/<signal>` appended to its path, exactly one `/` between them;
/// any `?query` or `#fragment` stays at the end.
pub(crate) fn resolve_base_endpoint(url: &str, signal: Signal) -> Result<String, UrlError> {
    let parts = check_url(url)?;
    let mut out = String::with_capacity(url.len() + 12);
    out.push_str(&url[..parts.path_end]);
    if !out.ends_with('/') {
        out.push('/');
    }
    out.push_str(signal.http_path());
    out.push_str(&url[parts.path_end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("a+b").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("%2C%3d").as_deref(), Some(",="));
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%FF"), None, "not UTF-8");
        assert_eq!(percent_decode("").as_deref(), Some(""));
    }

    #[test]
    fn booleans() {
        let mut w = Vec::new();
        assert!(parse_bool("V", "TRUE", &mut w));
        assert!(parse_bool("V", "true", &mut w));
        assert!(!parse_bool("V", "False", &mut w));
        assert!(w.is_empty());
        assert!(!parse_bool("V", "1", &mut w));
        assert!(!parse_bool("V", "yes", &mut w));
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].value(), Some("1"));
    }

    #[test]
    fn integers() {
        let mut w = Vec::new();
        assert_eq!(parse_u64("V", "42", &mut w), Some(42));
        assert_eq!(parse_u64("V", " 7 ", &mut w), Some(7));
        assert_eq!(parse_u64("V", "0", &mut w), Some(0));
        assert!(w.is_empty());
        assert_eq!(parse_u64("V", "-1", &mut w), None);
        assert!(w[0].reason().contains("negative"));
        assert_eq!(parse_u64("V", "1.5", &mut w), None);
        assert_eq!(parse_u64("V", "99999999999999999999999", &mut w), None);
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn headers_parse_decode_and_skip() {
        let mut w = Vec::new();
        let h = parse_headers(
            "H",
            " api-key = s%20cret , bad, =x,x y=1,ok=%zz, tenant=a%3Db ,,",
            &mut w,
        );
        assert_eq!(h.get("api-key"), Some("s cret"));
        assert_eq!(h.get("tenant"), Some("a=b"));
        assert_eq!(h.len(), 2);
        assert_eq!(w.len(), 4, "{w:?}");
        for warning in &w {
            assert_eq!(warning.value(), None);
            let text = warning.to_string();
            assert!(!text.contains("%zz") && !text.contains("bad"), "{text}");
        }
        // A decoded CR/LF would be header injection.
        let mut w = Vec::new();
        let h = parse_headers("H", "a=x%0D%0Ay: z", &mut w);
        assert!(h.is_empty());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].value(), None);
        assert!(!w[0].to_string().contains("y: z"));
    }

    #[test]
    fn resource_attributes() {
        assert_eq!(
            parse_resource_attributes("a=1, b = x%2Cy ,,c=%C3%A9,a=2"),
            Ok(vec![
                ("a".into(), "2".into()),
                ("b".into(), "x,y".into()),
                ("c".into(), "é".into()),
            ])
        );
        assert!(parse_resource_attributes("a=1,b").is_err());
        assert!(parse_resource_attributes("a=%G1").is_err());
        assert!(parse_resource_attributes("=1").is_err());
        assert_eq!(parse_resource_attributes(""), Ok(vec![]));
    }

    #[test]
    fn signal_endpoints() {
        let r = resolve_signal_endpoint;
        assert_eq!(
            r("http://collector:4318").as_deref(),
            Ok("http://collector:4318/")
        );
        assert_eq!(
            r("http://collector:4318/").as_deref(),
            Ok("http://collector:4318/")
        );
        assert_eq!(
            r("https://c/custom/path").as_deref(),
            Ok("https://c/custom/path")
        );
        assert_eq!(r("http://c:4318?x=1").as_deref(), Ok("http://c:4318/?x=1"));
        assert_eq!(r("http://[::1]:4318").as_deref(), Ok("http://[::1]:4318/"));
        assert_eq!(
            r("http://c:/v1/traces").as_deref(),
            Ok("http://c:/v1/traces")
        );
        assert_eq!(r("HTTPS://c").as_deref(), Ok("HTTPS://c/"));
        assert_eq!(r("ftp://c:21"), Err(UrlError::Scheme));
        assert!(matches!(r("collector:4318"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("localhost"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("http://"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("http://:4318/"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("http://c:99999/"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("http://c:x/"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("http://c d/"), Err(UrlError::Invalid(_))));
        assert!(matches!(r("http://[::1/"), Err(UrlError::Invalid(_))));
    }

    #[test]
    fn base_endpoints() {
        let b = |u: &str| resolve_base_endpoint(u, Signal::Traces);
        assert_eq!(
            b("http://collector:4318").as_deref(),
            Ok("http://collector:4318/v1/traces")
        );
        assert_eq!(
            b("http://collector:4318/").as_deref(),
            Ok("http://collector:4318/v1/traces")
        );
        assert_eq!(
            b("http://collector:4318/mycollector/").as_deref(),
            Ok("http://collector:4318/mycollector/v1/traces")
        );
        assert_eq!(
            b("http://collector:4318/mycollector").as_deref(),
            Ok("http://collector:4318/mycollector/v1/traces")
        );
        assert_eq!(
            b("https://c/p?k=v").as_deref(),
            Ok("https://c/p/v1/traces?k=v")
        );
        assert_eq!(
            resolve_base_endpoint("http://c", Signal::Logs).as_deref(),
            Ok("http://c/v1/logs")
        );
        assert_eq!(b("grpc://c"), Err(UrlError::Scheme));
    }
}
