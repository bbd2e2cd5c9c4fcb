//! Short human room codes (`7-orbit-lantern`) and friendly peer names (`Amber Otter`).

use oxirtc_crypto::SecureRng;

/// Words of room codes: short, distinct, easy to say and type.
const WORDS: [&str; 64] = [
    "acorn", "amber", "anchor", "apple", "arrow", "aspen", "badger", "banjo", "beacon", "birch", "bison",
    "breeze", "cactus", "canyon", "cedar", "comet", "coral", "cricket", "delta", "ember", "falcon", "fern",
    "fjord", "garnet", "glacier", "harbor", "hazel", "heron", "indigo", "island", "jasper", "juniper",
    "kayak", "kettle", "lagoon", "lantern", "lemon", "lotus", "maple", "meadow", "meteor", "nectar", "nova",
    "oasis", "olive", "orbit", "otter", "pebble", "pepper", "pilot", "quartz", "raven", "ridge", "saffron",
    "sierra", "tango", "thistle", "tulip", "velvet", "violet", "walnut", "willow", "yonder", "zephyr",
];

const ADJECTIVES: [&str; 16] = [
    "Amber", "Brave", "Calm", "Clever", "Gentle", "Golden", "Happy", "Jolly", "Lucky", "Mellow", "Quick",
    "Quiet", "Silver", "Sunny", "Swift", "Witty",
];

const ANIMALS: [&str; 16] = [
    "Badger", "Crane", "Dolphin", "Falcon", "Fox", "Gecko", "Heron", "Koala", "Lynx", "Otter", "Owl",
    "Panda", "Puffin", "Raven", "Seal", "Tiger",
];

fn pick<'a>(rng: &mut SecureRng, list: &[&'a str]) -> &'a str {
    // `below` returns a value < len, so the index is in range.
    list[rng.below(list.len() as u64) as usize]
}

/// A fresh room code: a number 1–99 and two words (~400 000 codes).
pub fn room_code(rng: &mut SecureRng) -> String {
    let n = 1 + rng.below(99);
    format!("{n}-{}-{}", pick(rng, &WORDS), pick(rng, &WORDS))
}

/// A friendly display name for a peer that gave none.
pub fn friendly_name(rng: &mut SecureRng) -> String {
    format!("{} {}", pick(rng, &ADJECTIVES), pick(rng, &ANIMALS))
}

/// Normalises a typed code (`7 Orbit lantern` → `7-orbit-lantern`); `None` if it cannot be one.
pub fn normalize_code(code: &str) -> Option<String> {
    let parts: Vec<String> = code
        .trim()
        .split(|c: char| c == '-' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let ok = !parts.is_empty()
        && parts.len() <= 8
        && parts
            .iter()
            .all(|p| p.len() <= 16 && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    ok.then(|| parts.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_human_shape() {
        let mut rng = SecureRng::from_seed([7; 32]);
        for _ in 0..200 {
            let c = room_code(&mut rng);
            let parts: Vec<&str> = c.split('-').collect();
            assert_eq!(parts.len(), 3, "{c}");
            let n: u32 = parts[0].parse().unwrap();
            assert!((1..=99).contains(&n));
            assert!(WORDS.contains(&parts[1]) && WORDS.contains(&parts[2]));
            assert_eq!(normalize_code(&c).as_deref(), Some(c.as_str()));
        }
        assert!(friendly_name(&mut rng).contains(' '));
    }

    #[test]
    fn normalizes_typed_codes() {
        assert_eq!(
            normalize_code(" 7 Orbit-LANTERN ").as_deref(),
            Some("7-orbit-lantern")
        );
        assert_eq!(normalize_code("../etc"), None);
        assert_eq!(normalize_code(""), None);
    }
}
