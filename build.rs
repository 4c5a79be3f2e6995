//! Generates two tables of Unicode data for `model::email`, at build time, so only they reach
//! the Worker (the full tables would add about 160 KiB gzip to it):
//! - the characters whose NFKC form is ASCII (fullwidth letters, mathematical alphanumerics,
//!   ligatures, …), from `unicode-normalization`: emails are folded with it;
//! - the Unicode TR39 confusables whose prototype is ASCII, from `unicode-security`: the email
//!   key maps each to its prototype, so an address made to look like an existing one has its
//!   key.

use std::fmt::Write;
use unicode_normalization::UnicodeNormalization;

fn main() {
    let mut prototypes = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let mut one = [0u8; 4];
        let text: &str = c.encode_utf8(&mut one);
        let prototype: String = unicode_security::skeleton(text).collect();
        if prototype != text && !prototype.is_empty() && prototype.is_ascii() {
            prototypes.push((c, prototype));
        }
    }
    let mut nfkc = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let folded: String = std::iter::once(c).nfkc().collect();
        let mut one = [0u8; 4];
        if folded != *c.encode_utf8(&mut one) && !folded.is_empty() && folded.is_ascii() {
            nfkc.push((c, folded));
        }
    }
    let mut out = String::new();
    for (name, doc, table) in [
        (
            "ASCII_PROTOTYPES",
            "the confusables whose prototype is ASCII (TR39)",
            &prototypes,
        ),
        (
            "ASCII_NFKC",
            "the characters whose NFKC form is ASCII and differs from them",
            &nfkc,
        ),
    ] {
        writeln!(
            out,
            "/// {doc}, sorted by character, in the run format `model::email::fold` reads.\n\
             pub static {name}: &str = {:?};",
            runs(table)
        )
        .unwrap();
    }
    let out_file = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("confusables.rs");
    std::fs::write(out_file, out).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}

/// The table as one string of entries, each a character, its ASCII mapping and a count
/// below 32 (a control character): a count `n` above 1 is a run, where the `n` characters
/// from the first map to the `n` characters from its one-character mapping (`𝐀`..`𝐙` are
/// `A`..`Z`). As a string the table is a third of the size of a slice of pairs, and
/// compresses better still (the Worker's bundle is limited).
fn runs(table: &[(char, String)]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < table.len() {
        let (from, to) = &table[i];
        assert!(
            *from >= ' ' && to.bytes().all(|b| b >= 0x20),
            "a control character in the table"
        );
        let mut n = 1;
        if to.len() == 1 {
            let first = to.as_bytes()[0] as u32;
            while n < 31
                && table.get(i + n).is_some_and(|(c, t)| {
                    *c as u32 == *from as u32 + n as u32
                        && t.len() == 1
                        && t.as_bytes()[0] as u32 == first + n as u32
                })
            {
                n += 1;
            }
        }
        out.push(*from);
        out.push_str(to);
        out.push(char::from_u32(n as u32).unwrap());
        i += n;
    }
    out
}
