//! Generates two slices of Unicode data for `model::email`, at build time, so only they reach
//! the Worker (the full tables would add about 160 KiB gzip to it):
//! - the characters whose NFKC form is ASCII (fullwidth letters, mathematical alphanumerics,
//!   ligatures, …), from `unicode-normalization`: emails are folded with it;
//! - the Unicode TR39 confusables whose prototype is ASCII, from `unicode-security`: the email
//!   key maps each to its prototype, so an address made to look like an existing one has its
//!   key.

use std::fmt::Write;
use unicode_normalization::UnicodeNormalization;

fn main() {
    let mut table = String::from(
        "/// (character, its TR39 prototype), sorted by character: the confusables whose\n\
         /// prototype is ASCII.\npub static ASCII_PROTOTYPES: &[(char, &str)] = &[\n",
    );
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let mut one = [0u8; 4];
        let text: &str = c.encode_utf8(&mut one);
        let prototype: String = unicode_security::skeleton(text).collect();
        if prototype != text && !prototype.is_empty() && prototype.is_ascii() {
            writeln!(table, "    ({:?}, {:?}),", c, prototype).unwrap();
        }
    }
    table.push_str("];\n");
    table.push_str(
        "/// (character, its NFKC form), sorted by character: the characters whose NFKC form\n\
         /// is ASCII and differs from them.\npub static ASCII_NFKC: &[(char, &str)] = &[\n",
    );
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let folded: String = std::iter::once(c).nfkc().collect();
        let mut one = [0u8; 4];
        if folded != *c.encode_utf8(&mut one) && !folded.is_empty() && folded.is_ascii() {
            writeln!(table, "    ({:?}, {:?}),", c, folded).unwrap();
        }
    }
    table.push_str("];\n");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("confusables.rs");
    std::fs::write(out, table).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
