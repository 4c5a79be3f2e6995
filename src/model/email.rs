//! Email addresses as users give them: what may not be in one, and the key that makes
//! look-alike addresses equal (Unicode TR39 §4, confusable detection).
//!
//! Emails are compared ignoring ASCII case, as before. On top of that, every path that creates
//! a user (sign-up, the management API, imports) refuses invisible and format characters
//! (Unicode general category `Cf`: zero-width spaces and joiners, bidi controls, the BOM, …),
//! and the store refuses a new address whose [`key`] equals an existing one's in the same
//! connection: `<existing email>` in fullwidth letters, or with a Cyrillic `ѕ`, is the same
//! account to a person, so it is refused as taken.

include!(concat!(env!("OUT_DIR"), "/confusables.rs"));

/// The `Cf` (format) code points of Unicode 15.1, as ranges.
const FORMAT: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// The address as it is stored and looked up: trimmed, and every character whose NFKC form
/// is ASCII replaced by that form (`ａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ` is `ada@example.com`, `ﬁ` is `fi`).
/// Other characters are kept as given (this is NFKC for the characters that fold to ASCII,
/// not a full normalization).
pub fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.trim().chars() {
        if !fold(ASCII_NFKC, c, |a| out.push(a)) {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// Whether `c` is an invisible or format character (`Cf`), or a control character.
pub fn invisible(c: char) -> bool {
    let n = c as u32;
    c.is_control() || FORMAT.iter().any(|(lo, hi)| (*lo..=*hi).contains(&n))
}

/// The blocks of combining diacritical marks that follow Latin, Greek and Cyrillic letters.
/// A letter spelled as base + mark looks exactly like its precomposed form, and the key does
/// not decompose (the decomposition data would cost the Worker 16 KiB gzip), so such a
/// spelling is refused: `jose` + U+0301 may not sit beside `josé`. Marks of other scripts
/// (Devanagari vowel signs, …) are parts of their letters and stay allowed.
const COMBINING: [(u32, u32); 5] = [
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
];

/// Whether `c` is a combining diacritical mark of [`COMBINING`].
fn combining(c: char) -> bool {
    let n = c as u32;
    COMBINING.iter().any(|(lo, hi)| (*lo..=*hi).contains(&n))
}

/// Why `email` may not be given to a new user, if it may not: it holds an invisible, format or
/// control character, or a separate combining accent.
pub fn refusal(email: &str) -> Option<&'static str> {
    if email.chars().any(invisible) {
        return Some("the email holds an invisible or formatting character");
    }
    email.chars().any(combining).then_some(
        "the email spells an accented letter as a letter and a separate accent: \
         type the accented letter itself",
    )
}

/// The address as a person sees it: ASCII case ignored, and each character that TR39 lists
/// as confusable with an ASCII prototype replaced by it (fullwidth `Ａ` and Cyrillic `А` are
/// `a`; `0` is `o`; `m` is `rn`). Two addresses with one key look the same.
pub fn key(email: &str) -> String {
    let mut out = String::with_capacity(email.len());
    for c in email.chars() {
        let c = c.to_ascii_lowercase();
        if !fold(ASCII_PROTOTYPES, c, |p| out.push(p.to_ascii_lowercase())) {
            out.push(c);
        }
    }
    out
}

/// Gives `push` the ASCII that a table of `build.rs` maps `c` to, and answers whether it maps
/// it. The table is a string of entries (a character, its mapping, and a count below 32 that
/// ends the entry; a count above 1 is a run of consecutive characters mapped to consecutive
/// single characters), sorted by character, so the scan stops at the first entry past `c`:
/// ASCII, which comes first, costs a few steps.
fn fold(table: &str, c: char, mut push: impl FnMut(char)) -> bool {
    let mut chars = table.chars();
    while let Some(from) = chars.next() {
        if from > c {
            return false;
        }
        let to = chars.as_str();
        let Some(end) = to.find(|t: char| t < ' ') else {
            return false;
        };
        let count = to[end..].chars().next().map_or(1, |n| n as u32);
        let offset = c as u32 - from as u32;
        if offset < count {
            let mapped = &to[..end];
            match (count, mapped.chars().next()) {
                (1, _) => mapped.chars().for_each(&mut push),
                (_, Some(first)) => push(char::from_u32(first as u32 + offset).unwrap_or(first)),
                _ => {}
            }
            return true;
        }
        chars = to[end + 1..].chars();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_share_the_key_of_the_address_they_imitate() {
        let real = key("Scott@Example.com");
        for fake in [
            "scott@example.com",
            "ѕcott@example.com",                 // Cyrillic dze
            "ｓｃｏｔｔ@ｅｘａｍｐｌｅ．ｃｏｍ", // fullwidth
            "sc0tt@example.com",                 // digit zero
            "SCOTT@EXAMPLE.COM",
        ] {
            assert_eq!(key(fake), real, "{fake}");
        }
        assert_ne!(key("scot@example.com"), real);
        assert_ne!(
            key("josé@example.com"),
            key("jose@example.com"),
            "a real accent is no look-alike"
        );
        assert!(ASCII_PROTOTYPES.len() > 5_000);
        // A run: mathematical bold capitals are their letters.
        assert_eq!(key("\u{1D400}\u{1D419}@x.com"), key("az@x.com"));
        assert_eq!(key("\u{1D400}\u{1D419}@x.org"), "az@x.org");
    }

    #[test]
    fn characters_whose_nfkc_form_is_ascii_fold_to_it() {
        assert_eq!(
            normalize(" ａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ "),
            "ada@example.com"
        );
        assert_eq!(normalize("\u{1D41A}da@example.com"), "ada@example.com"); // bold a
        assert_eq!(normalize("\u{FB01}nn@example.com"), "finn@example.com"); // fi ligature
        assert_eq!(normalize("josé@exämple.com"), "josé@exämple.com");
        assert_eq!(
            normalize("\u{0430}da@example.com"),
            "\u{0430}da@example.com",
            "Cyrillic stays: the key catches it"
        );
        assert_eq!(normalize("\u{1D419}\u{FF5A}"), "Zz", "the end of runs");
    }

    #[test]
    fn invisible_and_format_characters_are_refused() {
        for bad in [
            "a\u{200B}@example.com",
            "\u{FEFF}a@example.com",
            "a\u{202E}@example.com",
            "a\u{00AD}b@x.com",
            "a\u{0007}@x.com",
        ] {
            assert!(refusal(bad).is_some(), "{bad:?}");
        }
        assert_eq!(refusal("ada.lovelace+tag@example.com"), None);
        assert_eq!(refusal("josé@exämple.com"), None);
        // The same letters spelled with separate accents would look identical: refused.
        assert!(refusal("jose\u{301}@example.com").is_some());
        let hindi = "\u{0930}\u{093E}m@example.in";
        assert_eq!(
            refusal(hindi),
            None,
            "a Devanagari vowel sign is part of its letter"
        );
    }
}
