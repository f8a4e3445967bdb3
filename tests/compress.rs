//! Every codec, over varied inputs and levels, decoded by independent decoders
//! (flate2's `GzDecoder`/`ZlibDecoder` and the C `zstd` library) back to the same bytes.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};
use otlp_sync::compress::{CompressError, Compression, Compressor, DEFAULT_LEVEL};
use proptest::prelude::*;

const ALL: [Compression; 4] = [
    Compression::None,
    Compression::Gzip,
    Compression::Deflate,
    Compression::Zstd,
];

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// Something shaped like an OTLP protobuf body: repeated attribute keys and values with
/// random 16- and 8-byte ids and increasing timestamps in between.
fn otlp_like(spans: usize) -> Vec<u8> {
    let ids = random_bytes(spans * 24, 7);
    let mut out = Vec::new();
    for (i, id) in ids.chunks(24).enumerate() {
        out.extend_from_slice(b"\x0a\x10");
        out.extend_from_slice(id);
        out.extend_from_slice(b"\x12\x0abench-span\x39");
        out.extend_from_slice(&(1_700_000_000_000_000_000u64 + i as u64 * 1013).to_le_bytes());
        for (k, v) in [
            ("bench.str0", "alpha-0123456789"),
            ("bench.str1", "bravo-0123456789"),
            ("bench.str2", "charlie-01234567"),
            ("bench.str3", "delta-0123456789"),
        ] {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(v.as_bytes());
        }
        out.extend_from_slice(&(i as u64).to_le_bytes());
    }
    out
}

/// Named inputs: empty, one byte, random, repetitive, mixed, and a few MB.
fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut few_mb = otlp_like(6_000);
    few_mb.extend(random_bytes(1 << 20, 3));
    few_mb.extend(std::iter::repeat_n(b'z', 1 << 20));
    vec![
        ("empty", Vec::new()),
        ("one byte", vec![0x42]),
        ("one zero", vec![0]),
        ("random 1 KiB", random_bytes(1024, 1)),
        ("random 200 KiB", random_bytes(200 * 1024, 2)),
        ("repetitive 300 KiB", b"abcabcabd".repeat(300 * 1024 / 9)),
        ("zeros 70 KiB", vec![0; 70 * 1024]),
        ("otlp-like 190 KB", otlp_like(512)),
        ("few MB mixed", few_mb),
    ]
}

fn decode(compression: Compression, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match compression {
        Compression::None => out.extend_from_slice(body),
        Compression::Gzip => {
            let mut d = GzDecoder::new(body);
            d.read_to_end(&mut out).expect("flate2 gzip decode");
            // One member, nothing after it.
            assert!(
                d.into_inner().is_empty(),
                "trailing bytes after the gzip member"
            );
        }
        Compression::Deflate => {
            let mut d = ZlibDecoder::new(body);
            d.read_to_end(&mut out).expect("flate2 zlib decode");
            assert!(
                d.into_inner().is_empty(),
                "trailing bytes after the zlib stream"
            );
        }
        Compression::Zstd => out = zstd::stream::decode_all(body).expect("C zstd decode"),
        other => panic!("no reference decoder for {other:?}"),
    }
    out
}

fn compress(c: &mut Compressor, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    c.compress(input, &mut out).expect("compress");
    out
}

fn round_trip(compression: Compression, level: Option<u8>, input: &[u8]) -> Vec<u8> {
    let mut c = Compressor::new(compression, level);
    assert_eq!(c.compression(), compression);
    let body = compress(&mut c, input);
    assert!(
        decode(compression, &body) == input,
        "{compression:?} level {level:?}: round trip of {} bytes differs",
        input.len()
    );
    body
}

#[test]
fn gzip_and_deflate_every_input_several_levels() {
    for (name, input) in inputs() {
        for compression in [Compression::Gzip, Compression::Deflate] {
            for level in [
                None,
                Some(0),
                Some(1),
                Some(6),
                Some(9),
                Some(10),
                Some(255),
            ] {
                let body = round_trip(compression, level, &input);
                // Stored (level 0) grows the body a little; other levels must not blow up
                // incompressible input by more than deflate's stored-block overhead.
                assert!(
                    body.len() <= input.len() + input.len() / 1000 + 64,
                    "{name} {compression:?} {level:?}: {} -> {}",
                    input.len(),
                    body.len()
                );
            }
        }
    }
}

#[test]
fn none_copies_input() {
    for (_, input) in inputs() {
        assert_eq!(round_trip(Compression::None, None, &input), input);
        assert_eq!(round_trip(Compression::None, Some(9), &input), input);
    }
}

#[test]
fn zstd_every_level_never_panics_and_decodes() {
    // ruzstd implements only its Fastest level; every other level panics inside ruzstd.
    // Every level we accept must therefore work, including the ones C zstd knows
    // (1..=22), 0 ("default" in C zstd), out-of-range ones and None.
    let small = otlp_like(64);
    let mut levels: Vec<Option<u8>> = (0..=22).map(Some).collect();
    levels.extend([Some(23), Some(100), Some(255), None]);
    for level in levels {
        round_trip(Compression::Zstd, level, &[]);
        round_trip(Compression::Zstd, level, &[1]);
        let body = round_trip(Compression::Zstd, level, &small);
        assert!(
            body.len() < small.len() / 2,
            "level {level:?} did not compress"
        );
    }
}

#[test]
fn zstd_every_input() {
    for (_, input) in inputs() {
        let body = round_trip(Compression::Zstd, None, &input);
        assert_eq!(&body[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd frame magic");
    }
}

#[test]
fn compressed_output_is_smaller_on_otlp_like_bodies() {
    let input = otlp_like(512);
    for compression in [Compression::Gzip, Compression::Deflate, Compression::Zstd] {
        let body = round_trip(compression, None, &input);
        assert!(
            body.len() * 2 < input.len(),
            "{compression:?}: {} -> {}",
            input.len(),
            body.len()
        );
    }
}

#[test]
fn compressor_is_reused_across_bodies_and_appends() {
    let bodies = inputs();
    for compression in ALL {
        for level in [None, Some(9)] {
            let mut c = Compressor::new(compression, level);
            // Several bodies through one compressor, in an order that goes from large to
            // small and back, so leftover state from a previous body would show.
            for (name, input) in bodies.iter().rev().chain(bodies.iter()) {
                let mut out = b"prefix".to_vec();
                c.compress(input, &mut out).expect("compress");
                assert_eq!(&out[..6], b"prefix", "{name}: existing bytes kept");
                assert!(
                    decode(compression, &out[6..]) == *input,
                    "{compression:?} {name}: reused compressor round trip differs"
                );
            }
            // And the same body twice gives the same bytes (no state carried over).
            let input = &bodies[7].1;
            assert_eq!(compress(&mut c, input), compress(&mut c, input));
        }
    }
}

#[test]
fn gzip_header_and_trailer_fields() {
    for (_, input) in inputs() {
        for level in [0u8, 1, 6, 9] {
            let body = round_trip(Compression::Gzip, Some(level), &input);
            assert!(body.len() >= 18);
            assert_eq!(&body[..2], &[0x1f, 0x8b], "magic");
            assert_eq!(body[2], 8, "CM = deflate");
            assert_eq!(body[3], 0, "FLG: no name, comment, extra or header CRC");
            assert_eq!(&body[4..8], &[0, 0, 0, 0], "MTIME = 0 (not available)");
            let xfl = match level {
                1 => 4,
                9 => 2,
                _ => 0,
            };
            assert_eq!(body[8], xfl, "XFL for level {level}");
            assert_eq!(body[9], 255, "OS = unknown");
            let trailer = &body[body.len() - 8..];
            let crc = u32::from_le_bytes(trailer[..4].try_into().unwrap());
            let isize = u32::from_le_bytes(trailer[4..].try_into().unwrap());
            assert_eq!(crc, crc32fast::hash(&input), "CRC32");
            assert_eq!(isize, input.len() as u32, "ISIZE");
            // The middle is a raw deflate stream that an independent inflater accepts.
            let mut raw = Vec::new();
            flate2::read::DeflateDecoder::new(&body[10..body.len() - 8])
                .read_to_end(&mut raw)
                .unwrap();
            assert!(raw == input);
        }
    }
}

#[test]
fn gzip_crc_is_checked_by_the_independent_decoder() {
    // Guards the test above: flate2 does reject a wrong CRC, so round trips prove it.
    let input = otlp_like(10);
    let mut body = compress(&mut Compressor::new(Compression::Gzip, None), &input);
    let n = body.len();
    body[n - 8] ^= 1;
    let mut out = Vec::new();
    assert!(GzDecoder::new(&body[..]).read_to_end(&mut out).is_err());
}

#[test]
fn deflate_is_a_zlib_stream() {
    let body = round_trip(Compression::Deflate, None, b"hello");
    // CMF: CM = 8, CINFO = 7 (32 KiB window); FCHECK makes CMF*256+FLG a multiple of 31.
    assert_eq!(body[0], 0x78);
    assert_eq!((u16::from(body[0]) * 256 + u16::from(body[1])) % 31, 0);
    // Adler-32 of "hello", big-endian, at the end.
    assert_eq!(&body[body.len() - 4..], &[0x06, 0x2c, 0x02, 0x15]);
}

#[test]
fn default_level_and_parse() {
    assert_eq!(DEFAULT_LEVEL, 1);
    // None means the default level: identical bytes.
    let input = otlp_like(100);
    for compression in [Compression::Gzip, Compression::Deflate] {
        assert_eq!(
            round_trip(compression, None, &input),
            round_trip(compression, Some(DEFAULT_LEVEL), &input)
        );
    }
    for c in ALL {
        let name = c.content_encoding().unwrap_or("none");
        assert_eq!(Compression::parse(name), Some(c));
        assert_eq!(Compression::parse(&name.to_uppercase()), Some(c));
    }
    assert_eq!(Compression::parse("zlib"), None);
    assert_eq!(Compression::parse("identity"), None);
}

#[test]
fn types_are_send_and_error_is_std_error() {
    fn send<T: Send + 'static>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send::<Compressor>();
    error::<CompressError>();
}

fn any_compression() -> impl Strategy<Value = Compression> {
    prop::sample::select(ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_inputs_round_trip(
        compression in any_compression(),
        level in prop::option::of(any::<u8>()),
        input in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..4096),
            // A small alphabet gives long matches and runs.
            prop::collection::vec(prop::sample::select(b"ab\0".to_vec()), 0..40_000),
        ],
    ) {
        let mut c = Compressor::new(compression, level);
        let mut out = Vec::new();
        c.compress(&input, &mut out).unwrap();
        prop_assert!(decode(compression, &out) == input);
        // The same compressor again, on a different body.
        out.clear();
        c.compress(&input[input.len() / 2..], &mut out).unwrap();
        prop_assert!(decode(compression, &out) == input[input.len() / 2..]);
    }
}
