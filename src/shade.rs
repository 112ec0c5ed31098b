//! Pigment shades: what a dot of pigment looks like seen through skin.
//!
//! SMP pigment is carbon black diluted with water. Seen through the upper
//! skin it does not look black: the skin above scatters short wavelengths
//! back (the Tyndall effect), so a dot reads cool blue-grey. A shade is
//! therefore stored as a *transmittance*: the fraction of each linear-light
//! channel a full-strength dot lets through, bluer than it is red. Over
//! reddish skin that multiplies to the neutral-to-cool grey of real healed
//! SMP. Dilution follows Beer–Lambert: optical density scales with pigment
//! concentration, so a dilution `d` turns a transmittance `T` into `T^d`.

use palette::{LinSrgb, Srgb};

use crate::error::{Error, Result};

/// The named shades, with the sRGB colour a full-strength dot would show
/// over a white surface under the skin (its transmittance, encoded as sRGB).
pub const NAMED_SHADES: &[(&str, [u8; 3], &str)] = &[
    (
        "jet-black",
        [111, 119, 132],
        "undiluted carbon black; reads cool blue-grey through skin",
    ),
    (
        "black-brown",
        [122, 122, 128],
        "softer black with a warm cast, for brown hair",
    ),
    (
        "soft-black",
        [146, 151, 160],
        "carbon black diluted about 1:1; for light skin or fair hair",
    ),
    (
        "ash-grey",
        [172, 176, 183],
        "fine-particle ash grey used for semi-permanent work",
    ),
];

/// A pigment shade with its dilution.
#[derive(Debug, Clone, PartialEq)]
pub struct Shade {
    /// The shade's name (a name from [`NAMED_SHADES`] or `#rrggbb`).
    pub name: String,
    /// Transmittance of a full-strength dot in linear light, per channel.
    pub transmittance: LinSrgb<f32>,
    /// Pigment concentration, 1 = as in the bottle. Default: 1.
    pub dilution: f32,
}

impl Default for Shade {
    fn default() -> Self {
        Shade::parse("jet-black", 1.0, "default").expect("built-in shade")
    }
}

impl Shade {
    /// Parses a shade name (see [`NAMED_SHADES`]) or a custom `#rrggbb`
    /// transmittance colour, with a dilution in (0, 1].
    pub fn parse(name: &str, dilution: f32, source: &str) -> Result<Self> {
        if !(0.05..=1.0).contains(&dilution) {
            return Err(Error::field(
                source,
                "dilution",
                dilution,
                "must be 0.05 to 1 (1 = undiluted pigment)",
            ));
        }
        let key = name.trim().to_ascii_lowercase();
        let rgb = if let Some((_, rgb, _)) = NAMED_SHADES.iter().find(|(n, _, _)| *n == key) {
            *rgb
        } else if let Some(hex) = key.strip_prefix('#').filter(|h| h.len() == 6) {
            let v = u32::from_str_radix(hex, 16).map_err(|_| shade_error(name, source))?;
            [(v >> 16) as u8, (v >> 8) as u8, v as u8]
        } else {
            return Err(shade_error(name, source));
        };
        let transmittance: LinSrgb<f32> = Srgb::new(rgb[0], rgb[1], rgb[2])
            .into_format::<f32>()
            .into_linear();
        Ok(Shade {
            name: key,
            transmittance,
            dilution,
        })
    }

    /// The fraction of light absorbed per channel by a dot of this shade at
    /// relative `strength` (1 = a full-strength dot): `1 − T^(dilution·strength)`.
    pub fn absorption(&self, strength: f32) -> [f32; 3] {
        let k = self.dilution * strength;
        let t = self.transmittance;
        [
            1.0 - t.red.powf(k),
            1.0 - t.green.powf(k),
            1.0 - t.blue.powf(k),
        ]
    }
}

fn shade_error(name: &str, source: &str) -> Error {
    let names: Vec<&str> = NAMED_SHADES.iter().map(|(n, _, _)| *n).collect();
    Error::field(
        source,
        "shade",
        format!("{name:?}"),
        format!("must be one of {} or a colour #rrggbb", names.join(", ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_shades_read_cool_through_skin() {
        for (name, _, _) in NAMED_SHADES {
            let s = Shade::parse(name, 1.0, "test").unwrap();
            let t = s.transmittance;
            assert!(t.blue > t.red, "{name}: blue must pass more than red");
        }
    }

    #[test]
    fn dilution_lightens_by_beer_lambert() {
        let full = Shade::parse("jet-black", 1.0, "t").unwrap();
        let half = Shade::parse("jet-black", 0.5, "t").unwrap();
        let a = full.absorption(1.0);
        let b = half.absorption(1.0);
        for c in 0..3 {
            assert!(b[c] < a[c]);
            // (1 - b)^2 == 1 - a: half the optical density.
            assert!(((1.0 - b[c]).powi(2) - (1.0 - a[c])).abs() < 1e-5);
        }
    }

    #[test]
    fn custom_and_bad_shades() {
        let s = Shade::parse("#808080", 1.0, "t").unwrap();
        assert!((s.transmittance.red - 0.2158).abs() < 1e-3);
        let e = Shade::parse("purple", 1.0, "plan.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("plan.toml") && e.contains("shade") && e.contains("jet-black"),
            "{e}"
        );
        assert!(Shade::parse("jet-black", 0.0, "t").is_err());
    }
}
