//! Generates the table of Unicode TR39 confusables whose prototype is ASCII, from the
//! `unicode-security` crate's data, at build time: the email key (`model::email::key`) maps
//! each such character to its prototype, so an address made to look like an existing (ASCII)
//! one has the same key. Only this slice of the data reaches the Worker; the full tables would
//! add about 100 KiB (gzip) to it.

use std::fmt::Write;

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
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("confusables.rs");
    std::fs::write(out, table).unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
