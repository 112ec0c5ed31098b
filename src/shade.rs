//! Pigment shades: what a dot of pigment looks like seen through skin.
//!
//! SMP pigment is carbon black diluted with water. Seen through the upper
//! skin it does not look black: the skin above scatters short wavelengths
//! back (the Tyndall effect), so a dot reads cool blue-grey. A shade is
//! therefore a *pigment*, stored as the transmittance of a full-strength
//! dot of it undiluted (the fraction of each linear-light channel it lets
//! through, bluer than it is red), and a *dilution*: its concentration.
//! Dilution acts by Beer–Lambert on the optical density: OD = −ln T scales
//! with the concentration, so a 1:1 dilution (concentration ½) halves it
//! and turns `T` into `T^½`. Over reddish skin the pigment multiplies to the
//! neutral-to-cool grey of real healed SMP.
//!
//! A named shade is a pigment at the concentration practitioners mix it
//! at; `--dilution` dilutes that mix further.

use palette::{LinSrgb, Srgb};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// A named shade: its pigment (the sRGB colour a full-strength dot of the
/// undiluted pigment shows over a white surface under the skin, i.e. its
/// transmittance encoded as sRGB), its concentration of that pigment in
/// the shade's mix (1 = undiluted, ½ = 1:1 with water), and what it is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NamedShade {
    /// The name, as given to `--shade`.
    pub name: &'static str,
    /// Transmittance of a full-strength dot of the undiluted pigment, sRGB.
    pub pigment: [u8; 3],
    /// Concentration of the pigment in the shade's mix, 0 to 1.
    pub concentration: f32,
    /// What it is and whom it suits.
    pub about: &'static str,
}

/// Carbon black seen through skin: a full-strength dot of undiluted
/// pigment lets through 6-9 % of the light, more of the blue.
const CARBON_BLACK: [u8; 3] = [70, 78, 92];

/// The named shades, darkest first; each the next one's neighbour in the
/// list (test `shades::adjacent_shades_differ_visibly_on_every_shipped_plan`).
pub const NAMED_SHADES: &[NamedShade] = &[
    NamedShade {
        name: "jet-black",
        pigment: CARBON_BLACK,
        concentration: 1.0,
        about: "undiluted carbon black; reads cool blue-grey through skin; for black hair and darker skin",
    },
    NamedShade {
        name: "black-brown",
        pigment: [84, 70, 62],
        concentration: 0.45,
        about: "carbon black with a brown (iron oxide) cast, about 1:1; for brown hair",
    },
    NamedShade {
        name: "soft-black",
        pigment: CARBON_BLACK,
        concentration: 0.21,
        about: "carbon black diluted about 1:4; for light skin or fair hair",
    },
    NamedShade {
        name: "ash-grey",
        pigment: [84, 96, 112],
        concentration: 0.095,
        about: "fine-particle grey (carbon black, about 1:10, scattering cooler), used for semi-permanent work and for fair or grey hair",
    },
];

/// A pigment shade with its dilution.
#[derive(Debug, Clone, PartialEq)]
pub struct Shade {
    /// The shade's name (a name from [`NAMED_SHADES`] or `#rrggbb`).
    pub name: String,
    /// Transmittance of a full-strength dot of the undiluted pigment in
    /// linear light, per channel.
    pub transmittance: LinSrgb<f32>,
    /// Concentration of the pigment in the shade's own mix (a named
    /// shade's [`NamedShade::concentration`]; 1 for `#rrggbb`).
    pub concentration: f32,
    /// Further dilution of that mix, 1 = as mixed. Default: 1.
    pub dilution: f32,
}

impl Default for Shade {
    fn default() -> Self {
        Shade::parse(DEFAULT_SHADE, 1.0, "default").expect("built-in shade")
    }
}

/// The shade of a plan that names none and has no hair to match it to.
pub const DEFAULT_SHADE: &str = "soft-black";

impl Shade {
    /// Parses a shade name (see [`NAMED_SHADES`]) or a custom `#rrggbb`
    /// transmittance colour (of a full-strength dot, undiluted), with a
    /// further dilution in (0, 1].
    pub fn parse(name: &str, dilution: f32, source: &str) -> Result<Self> {
        if !(0.05..=1.0).contains(&dilution) {
            return Err(Error::field(
                source,
                "dilution",
                dilution,
                "must be 0.05 to 1 (1 = the shade as mixed)",
            ));
        }
        let key = name.trim().to_ascii_lowercase();
        let (rgb, concentration) = if let Some(n) = NAMED_SHADES.iter().find(|n| n.name == key) {
            (n.pigment, n.concentration)
        } else if let Some(hex) = key.strip_prefix('#').filter(|h| h.len() == 6) {
            let v = u32::from_str_radix(hex, 16).map_err(|_| shade_error(name, source))?;
            ([(v >> 16) as u8, (v >> 8) as u8, v as u8], 1.0)
        } else {
            return Err(shade_error(name, source));
        };
        let transmittance: LinSrgb<f32> = Srgb::new(rgb[0], rgb[1], rgb[2])
            .into_format::<f32>()
            .into_linear();
        Ok(Shade {
            name: key,
            transmittance,
            concentration,
            dilution,
        })
    }

    /// The pigment's concentration in the dots: the shade's own mix times
    /// the further dilution.
    pub fn strength(&self) -> f32 {
        self.concentration * self.dilution
    }

    /// The fraction of light absorbed per channel by a dot of this shade at
    /// relative `strength` (1 = a full-strength dot):
    /// `1 − T^(concentration·dilution·strength)`.
    pub fn absorption(&self, strength: f32) -> [f32; 3] {
        let k = self.strength() * strength;
        let t = self.transmittance;
        [
            1.0 - t.red.powf(k),
            1.0 - t.green.powf(k),
            1.0 - t.blue.powf(k),
        ]
    }

    /// The sRGB colour of a full-strength dot of the shade as mixed and
    /// diluted, over a white surface under the skin (a swatch).
    pub fn swatch(&self) -> [u8; 3] {
        let a = self.absorption(1.0);
        let s: Srgb<u8> = Srgb::from_linear(LinSrgb::new(1.0 - a[0], 1.0 - a[1], 1.0 - a[2]));
        [s.red, s.green, s.blue]
    }
}

/// The shade chosen to match a client's hair.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadeMatch {
    /// The shade and dilution chosen.
    pub shade: Shade,
    /// CIEDE2000 difference between the hair and a dot of that shade on
    /// the client's skin.
    pub delta_e: f32,
    /// The hair's colour (sRGB).
    pub hair: [u8; 3],
    /// The skin's colour under the region (sRGB).
    pub skin: [u8; 3],
    /// How many hair pixels were sampled.
    pub hair_pixels: usize,
    /// Why the plan's default shade was used instead of a match (no hair
    /// to match, e.g. a bald head); `None` for a match.
    pub fallback: Option<String>,
}

/// Dilutions tried when matching, from lightest to undiluted.
const MATCH_DILUTIONS: [f32; 15] = [
    0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0,
];
/// Skin from this CIELAB lightness on counts as light for matching…
pub const LIGHT_SKIN_L: f32 = 60.0;
/// … where the lightest shade within this ΔE2000 of the closest match is
/// taken: more dilution on lighter skin.
pub const LIGHT_SKIN_LEEWAY: f32 = 2.0;
/// Fewest hair pixels a match is made from…
const MIN_HAIR_PIXELS: usize = 30;
/// … and least share of the pixels looked at that must be hair.
const MIN_HAIR_SHARE: f32 = 0.01;

/// Picks the named shade and dilution whose dot, seen on the client's skin
/// (the median colour under `region`), is closest in CIELAB (ΔE2000) to
/// their hair: the dark pixels within `reach` px of `hair_at` if given,
/// else the dark pixels outside the region within `reach` px of it (the
/// remaining hair beside a treated area). `source` names the input for
/// errors.
pub fn match_hair(
    photo: &image::RgbImage,
    region: &crate::region::Region,
    hair_at: Option<[f32; 2]>,
    reach: f32,
    source: &str,
) -> Result<ShadeMatch> {
    use palette::color_difference::Ciede2000;
    use palette::{FromColor, Lab};
    let lut = crate::photo::srgb_to_linear_table();
    let lin = |p: &image::Rgb<u8>| {
        [
            lut[p.0[0] as usize],
            lut[p.0[1] as usize],
            lut[p.0[2] as usize],
        ]
    };
    let luma = |c: [f32; 3]| 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    let (w, h) = photo.dimensions();
    let b = region.bounds();
    let mut skin: Vec<[f32; 3]> = crate::hair::skin_pixels(photo, region)
        .map(|p| lin(&p))
        .collect();
    if skin.is_empty() {
        return Err(Error::field(
            source,
            "region",
            "(empty)",
            "the region has no pixel of weight 0.5 or more to sample the skin from",
        ));
    }
    let skin = median(&mut skin);
    // The hair: strands near a point, or in a ring around the region.
    let reach = reach.max(2.0);
    // Every pixel whose centre may be within reach: from the floor of the
    // least coordinate to past the ceiling of the greatest.
    let clip = |v: f32, n: u32| (v.max(0.0) as u32).min(n);
    let clip_up = |v: f32, n: u32| (v.max(0.0).ceil() as u32).min(n);
    let (x0, y0, x1, y1) = match hair_at {
        Some([px, py]) => (px - reach, py - reach, px + reach, py + reach),
        None => (
            b.x0 as f32 - reach,
            b.y0 as f32 - reach,
            b.x1 as f32 + reach,
            b.y1 as f32 + reach,
        ),
    };
    let window = crate::region::Rect {
        x0: clip(x0, w),
        y0: clip(y0, h),
        x1: clip_up(x1, w),
        y1: clip_up(y1, h),
    };
    let strands = crate::hair::hair_pixels(photo, window, luma(skin));
    let ww = window.width() as usize;
    // Around the region: the pixels outside it whose centre lies within
    // `reach` of a region pixel's centre (an exact Euclidean test over the
    // window, which holds every region pixel).
    let reach2 = f64::from(reach) * f64::from(reach);
    let ring = hair_at.is_none().then(|| {
        // The region's pixels of weight, read a row of its weights at a time.
        let mut treated = vec![false; strands.len()];
        let (x0, x1) = (window.x0.max(b.x0), window.x1.min(b.x1));
        treated
            .par_chunks_mut(ww.max(1))
            .enumerate()
            .for_each(|(r, out)| {
                let y = window.y0 + r as u32;
                if y < b.y0 || y >= b.y1 || x0 >= x1 {
                    return;
                }
                let out = &mut out[(x0 - window.x0) as usize..(x1 - window.x0) as usize];
                for (t, &w) in out.iter_mut().zip(region.row_within_bounds(y, x0, x1)) {
                    *t = w > 0.0;
                }
            });
        let near = crate::region::within_reach(ww, &treated, reach2);
        (treated, near)
    });
    let inside = |i: usize| match &ring {
        Some((treated, near)) => near[i] && !treated[i],
        None => hair_at.is_some_and(|[px, py]| {
            let (x, y) = (window.x0 + (i % ww) as u32, window.y0 + (i / ww) as u32);
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            (fx - px).powi(2) + (fy - py).powi(2) <= reach * reach
        }),
    };
    // How many pixels are looked at, and the strands among them in order
    // (not a list of every pixel looked at: 10 MB at 12 MP).
    let looked = (0..strands.len())
        .into_par_iter()
        .filter(|&i| inside(i))
        .count();
    let mut hair: Vec<[f32; 3]> = (0..strands.len())
        .into_par_iter()
        .filter(|&i| strands[i] && inside(i))
        .map(|i| lin(photo.get_pixel(window.x0 + (i % ww) as u32, window.y0 + (i / ww) as u32)))
        .collect();
    // A few dark pixels (an edge against the background, a mole) are not
    // hair: ask for enough of them, and for a share of what was looked at.
    let needed = MIN_HAIR_PIXELS.max((MIN_HAIR_SHARE * looked as f32) as usize);
    if hair.len() < needed {
        return Err(Error::field(
            source,
            "hair",
            format!("{} dark pixels", hair.len()),
            format!(
                "too few hair pixels (under {needed}) {} to match a shade; give a point on the client's hair with --hair X,Y, or a shade",
                if hair_at.is_some() { "near the point given" } else { "beside the region" }
            ),
        ));
    }
    let hair_pixels = hair.len();
    let hair = median(&mut hair);
    let lab = |c: [f32; 3]| Lab::from_color(LinSrgb::new(c[0], c[1], c[2]));
    let target = lab(hair);
    let mut tried: Vec<(f32, f32, Shade)> = Vec::new();
    for NamedShade { name, .. } in NAMED_SHADES {
        for d in MATCH_DILUTIONS {
            let shade = Shade::parse(name, d, source)?;
            let a = shade.absorption(1.0);
            let dot = [
                skin[0] * (1.0 - a[0]),
                skin[1] * (1.0 - a[1]),
                skin[2] * (1.0 - a[2]),
            ];
            let absorbed = 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
            tried.push((lab(dot).difference(target), absorbed, shade));
        }
    }
    // The closest match; on lighter skin practitioners dilute more
    // (docs/domain.md, "Colour"), so there the lightest shade within
    // LIGHT_SKIN_LEEWAY of the closest is taken.
    let closest = tried.iter().map(|t| t.0).fold(f32::INFINITY, f32::min);
    let leeway = if lab(skin).l >= LIGHT_SKIN_L {
        LIGHT_SKIN_LEEWAY
    } else {
        0.0
    };
    let (delta_e, _, shade) = tried
        .into_iter()
        .filter(|t| t.0 <= closest + leeway)
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)))
        .expect("shades to try");
    let srgb = |c: [f32; 3]| {
        let s: Srgb<u8> = Srgb::from_linear(LinSrgb::new(c[0], c[1], c[2]));
        [s.red, s.green, s.blue]
    };
    Ok(ShadeMatch {
        shade,
        delta_e,
        hair: srgb(hair),
        skin: srgb(skin),
        hair_pixels,
        fallback: None,
    })
}

/// Per-channel median.
fn median(px: &mut [[f32; 3]]) -> [f32; 3] {
    let m = px.len() / 2;
    std::array::from_fn(|c| {
        let mut v: Vec<f32> = px.iter().map(|p| p[c]).collect();
        *v.select_nth_unstable_by(m, f32::total_cmp).1
    })
}

fn shade_error(name: &str, source: &str) -> Error {
    let names: Vec<&str> = NAMED_SHADES.iter().map(|n| n.name).collect();
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
        let jet = Shade::parse("jet-black", 1.0, "test")
            .unwrap()
            .transmittance;
        for NamedShade { name, .. } in NAMED_SHADES {
            let s = Shade::parse(name, 1.0, "test").unwrap();
            let t = s.transmittance;
            if *name == "black-brown" {
                // Carbon black with a brown cast: warmer than jet-black.
                assert!(t.red / t.blue > jet.red / jet.blue, "{name}: not warmer");
                continue;
            }
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

    /// A 200 × 200 skin photo whose middle square is the region, with
    /// one-pixel dark strands of `hair` every third column around it.
    fn scalp(hair: Option<[u8; 3]>) -> (image::RgbImage, crate::region::Region) {
        let skin = [200u8, 160, 140];
        let photo = image::RgbImage::from_fn(200, 200, |x, y| {
            let inside = (60..140).contains(&x) && (60..140).contains(&y);
            match hair {
                Some(h) if !inside && x % 3 == 0 => image::Rgb(h),
                _ => image::Rgb(skin),
            }
        });
        let weights = (0..200 * 200)
            .map(|i| {
                let (x, y) = (i % 200, i / 200);
                if (60..140).contains(&x) && (60..140).contains(&y) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let region = crate::region::Region::from_weights(200, 200, weights, 0.0, "t").unwrap();
        (photo, region)
    }

    /// The scalp's photo with dark kept hair inside the region too: a
    /// strand every fifth column.
    fn with_strands_inside(photo: &image::RgbImage) -> image::RgbImage {
        let mut photo = photo.clone();
        for (x, y, p) in photo.enumerate_pixels_mut() {
            if (60..140).contains(&x) && (60..140).contains(&y) && x % 5 == 0 {
                *p = image::Rgb([20, 20, 20]);
            }
        }
        photo
    }

    /// The scalp's strand pixels (every third column outside the region)
    /// whose centre is where `at` holds.
    fn strands_where(at: impl Fn(f32, f32) -> bool) -> Vec<(u32, u32)> {
        (0..200u32)
            .flat_map(|y| (0..200u32).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let inside = (60..140).contains(&x) && (60..140).contains(&y);
                !inside && x % 3 == 0 && at(x as f32 + 0.5, y as f32 + 0.5)
            })
            .collect()
    }

    /// Whether a point lies outside the scalp's region and within `reach`
    /// of a region pixel's centre (the centres span 60.5..=139.5).
    fn beside_region(fx: f32, fy: f32, reach: f32) -> bool {
        let dx = (60.5 - fx).max(fx - 139.5);
        let dy = (60.5 - fy).max(fy - 139.5);
        (dx > 0.0 || dy > 0.0) && dx.max(0.0).powi(2) + dy.max(0.0).powi(2) <= reach * reach
    }

    /// The hair's colour is the median of the strands looked at, channel by
    /// channel; a strand's colour here changes with its row.
    #[test]
    fn auto_shade_takes_the_median_hair_colour() {
        let (mut photo, region) = scalp(Some([0, 0, 0]));
        let hair = |y: u32| [30 + (y / 4) as u8, 25 + (y / 5) as u8, 20 + (y / 6) as u8];
        for (_, y, p) in photo.enumerate_pixels_mut() {
            if p.0 == [0, 0, 0] {
                *p = image::Rgb(hair(y));
            }
        }
        let cases: [(Option<[f32; 2]>, f32); 3] = [
            (None, 30.0),
            (Some([30.0, 100.0]), 25.0),
            (Some([100.0, 170.0]), 28.0),
        ];
        for (at, reach) in cases {
            let m = match_hair(&photo, &region, at, reach, "t").unwrap();
            let looked: Vec<[u8; 3]> = strands_where(|fx, fy| match at {
                Some([px, py]) => (fx - px).powi(2) + (fy - py).powi(2) <= reach * reach,
                None => beside_region(fx, fy, reach),
            })
            .into_iter()
            .map(|(_, y)| hair(y))
            .collect();
            let want: [u8; 3] = std::array::from_fn(|c| {
                let mut v: Vec<u8> = looked.iter().map(|p| p[c]).collect();
                v.sort_unstable();
                v[v.len() / 2]
            });
            assert_eq!(m.hair_pixels, looked.len(), "{at:?}");
            assert_eq!(m.hair, want, "{at:?}");
        }
    }

    /// A strand is hair when darker than 60 % of the skin's luminance
    /// (Rec. 709 weights of linear light): a grey strand a little under
    /// that is matched, one a little over is not.
    #[test]
    fn hair_is_darker_than_sixty_percent_of_the_skin() {
        let lut = crate::photo::srgb_to_linear_table();
        for skin in [[200u8, 160, 140], [120, 150, 230], [230, 200, 90]] {
            let l = 0.2126 * lut[skin[0] as usize]
                + 0.7152 * lut[skin[1] as usize]
                + 0.0722 * lut[skin[2] as usize];
            let under = (0..=255u8)
                .rev()
                .find(|&v| lut[v as usize] <= 0.98 * 0.6 * l)
                .unwrap();
            let over = (0..=255u8)
                .find(|&v| lut[v as usize] >= 1.02 * 0.6 * l)
                .unwrap();
            let scene = |v: u8| {
                let (photo, region) = scalp(Some([v, v, v]));
                let photo = image::RgbImage::from_fn(200, 200, |x, y| {
                    let p = photo.get_pixel(x, y).0;
                    image::Rgb(if p == [v, v, v] { p } else { skin })
                });
                (photo, region)
            };
            let (photo, region) = scene(under);
            let m = match_hair(&photo, &region, None, 30.0, "t")
                .unwrap_or_else(|e| panic!("{skin:?}, strand {under}: {e}"));
            assert_eq!(m.hair, [under; 3]);
            let (photo, region) = scene(over);
            assert!(
                match_hair(&photo, &region, None, 30.0, "t").is_err(),
                "{skin:?}: strand {over} is not hair"
            );
        }
    }

    /// A match needs at least 30 hair pixels and at least 1 % of the
    /// pixels looked at: exactly enough is enough, one fewer is not.
    #[test]
    fn a_match_needs_enough_hair() {
        let (_, region) = scalp(None);
        let skin = [200u8, 160, 140];
        let (px, py) = (30.0f32, 100.0f32);
        for reach in [12.0f32, 40.0] {
            let looked = (0..200u32)
                .flat_map(|y| (0..200u32).map(move |x| (x, y)))
                .filter(|&(x, y)| {
                    (x as f32 + 0.5 - px).powi(2) + (y as f32 + 0.5 - py).powi(2) <= reach * reach
                })
                .count();
            let needed = 30usize.max(looked / 100);
            for n in [needed, needed - 1] {
                // Vertical one-pixel strands 10 px long, 3 px apart,
                // the last one shorter, all within 10 px of the point.
                let photo = image::RgbImage::from_fn(200, 200, |x, y| {
                    let (dx, dy) = (x as i64 - 30, y as i64 - 95);
                    let k = (dx + 9) / 3;
                    let on = dx >= -9 && (dx + 9) % 3 == 0 && (0..10).contains(&dy);
                    image::Rgb(if on && (k * 10 + dy) < n as i64 {
                        [40, 36, 34]
                    } else {
                        skin
                    })
                });
                let m = match_hair(&photo, &region, Some([px, py]), reach, "t");
                if n == needed {
                    assert_eq!(m.unwrap().hair_pixels, n, "reach {reach}");
                } else {
                    let e = m.unwrap_err().to_string();
                    assert!(e.contains(&format!("under {needed}")), "reach {reach}: {e}");
                }
            }
        }
    }

    #[test]
    fn auto_shade_follows_the_hair() {
        let (photo, region) = scalp(Some([40, 36, 34]));
        let dark = match_hair(&photo, &region, None, 30.0, "t").unwrap();
        let (photo, region) = scalp(Some([120, 105, 98]));
        let light = match_hair(&photo, &region, None, 30.0, "t").unwrap();
        assert_eq!(dark.hair, [40, 36, 34]);
        assert_eq!(dark.skin, [200, 160, 140]);
        // Darker hair, more pigment: compare what a full dot absorbs.
        let g = |m: &ShadeMatch| m.shade.absorption(1.0)[1];
        assert!(g(&dark) > g(&light) + 0.1, "{dark:?} vs {light:?}");
        // The best of the grid is a fair match of the lighter hair.
        assert!(light.delta_e < 8.0, "{light:?}");
        // A point on the hair finds the same colour.
        let at = match_hair(&photo, &region, Some([30.0, 100.0]), 10.0, "t").unwrap();
        assert_eq!(at.hair, light.hair);
    }

    /// The hair is looked for where it was asked for: in a ring `reach` px
    /// wide around the region (about a third of its pixels are strands
    /// here), or within `reach` of a point; and the shade chosen is the
    /// one whose dot on this skin is closest to the hair, or on light skin
    /// the least pigment within the leeway of the closest.
    #[test]
    fn auto_shade_looks_where_asked_and_takes_the_closest() {
        use palette::color_difference::Ciede2000;
        use palette::{FromColor, Lab};
        let (photo, region) = scalp(Some([70, 60, 55]));
        // Around the region: every strand pixel outside it whose centre is
        // within `reach` of a region pixel's centre (the region's pixel
        // centres span 60.5..=139.5), counted here directly; strands inside
        // the region (kept hair) are not looked at.
        let photo = with_strands_inside(&photo);
        for reach in [10.0f32, 20.0, 30.0] {
            let ring = match_hair(&photo, &region, None, reach, "t").unwrap();
            let want = strands_where(|fx, fy| beside_region(fx, fy, reach)).len();
            assert_eq!(ring.hair_pixels, want, "ring {reach}");
        }
        // Within `reach` of a point: every strand pixel whose centre is
        // within it.
        for (px, py, reach) in [
            (30.0f32, 100.0f32, 10.0f32),
            (31.3, 97.6, 10.0),
            (160.7, 20.2, 17.0),
        ] {
            let point = match_hair(&photo, &region, Some([px, py]), reach, "t").unwrap();
            let want =
                strands_where(|fx, fy| (fx - px).powi(2) + (fy - py).powi(2) <= reach * reach)
                    .len();
            assert_eq!(point.hair_pixels, want, "point {px},{py}");
        }
        // The choice, checked against every named shade and dilution, for
        // 65 hair colours on two light skins and a dark one.
        let lut = crate::photo::srgb_to_linear_table();
        let lin = |c: [u8; 3]| -> [f32; 3] { std::array::from_fn(|i| lut[c[i] as usize]) };
        // [70, 60, 55], then a grid of browns, greys and blacks.
        let grid =
            (0..64u8).map(|i| [30 + 20 * (i % 4), 30 + 20 * (i / 4 % 4), 30 + 20 * (i / 16)]);
        let hairs: Vec<[u8; 3]> = std::iter::once([70, 60, 55]).chain(grid).collect();
        let skins = [[200u8, 160, 140], [225, 190, 170], [110, 78, 62]];
        let luminance = |c: [f32; 3]| 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        let pairs = skins
            .into_iter()
            .flat_map(|s| hairs.iter().map(move |&h| (s, h)));
        // (Hair lighter than 60 % of the skin is not found as hair.)
        for (skin_rgb, hair_rgb) in
            pairs.filter(|&(s, h)| luminance(lin(h)) < 0.55 * luminance(lin(s)))
        {
            let photo = image::RgbImage::from_fn(200, 200, |x, y| {
                let inside = (60..140).contains(&x) && (60..140).contains(&y);
                image::Rgb(if !inside && x % 3 == 0 {
                    hair_rgb
                } else {
                    skin_rgb
                })
            });
            let m = match_hair(&photo, &region, None, 30.0, "t").unwrap();
            assert_eq!((m.skin, m.hair), (skin_rgb, hair_rgb));
            let skin = lin(skin_rgb);
            let [hr, hg, hb] = lin(hair_rgb);
            let hair = Lab::from_color(LinSrgb::new(hr, hg, hb));
            let light = Lab::from_color(LinSrgb::new(skin[0], skin[1], skin[2])).l >= 60.0;
            let de = |s: &Shade| {
                let a = s.absorption(1.0);
                let d = LinSrgb::new(
                    skin[0] * (1.0 - a[0]),
                    skin[1] * (1.0 - a[1]),
                    skin[2] * (1.0 - a[2]),
                );
                Lab::from_color(d).difference(hair)
            };
            let mut all = Vec::new();
            for n in NAMED_SHADES {
                for k in 6..=20 {
                    all.push(Shade::parse(n.name, k as f32 * 0.05, "t").unwrap());
                }
            }
            let closest = all.iter().map(de).fold(f32::INFINITY, f32::min);
            let case = format!(
                "skin {skin_rgb:?}, hair {hair_rgb:?}: {} {}",
                m.shade.name, m.shade.dilution
            );
            assert!((de(&m.shade) - m.delta_e).abs() < 1e-3, "{case}");
            if light {
                assert!(m.delta_e <= closest + LIGHT_SKIN_LEEWAY + 1e-4, "{case}");
                // The least pigment: the least of the light a full dot
                // takes, weighed as luminance (Rec. 709).
                let g = |s: &Shade| {
                    let a = s.absorption(1.0);
                    0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]
                };
                for s in all.iter().filter(|s| de(s) <= closest + LIGHT_SKIN_LEEWAY) {
                    assert!(
                        g(s) >= g(&m.shade) - 1e-6,
                        "{case}: {} {} absorbs less",
                        s.name,
                        s.dilution
                    );
                }
                if (skin_rgb, hair_rgb) == (skins[0], hairs[0]) {
                    assert!(
                        m.delta_e > closest + 1e-4,
                        "light skin: the closest, not a lighter one"
                    );
                }
            } else {
                assert!((m.delta_e - closest).abs() < 1e-4, "{case} vs {closest}");
            }
        }
    }

    #[test]
    fn auto_shade_without_hair_asks_for_a_point() {
        let (photo, region) = scalp(None);
        let e = match_hair(&photo, &region, None, 30.0, "plan.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("plan.toml") && e.contains("hair") && e.contains("--hair"),
            "{e}"
        );
    }

    #[test]
    fn custom_and_bad_shades() {
        let s = Shade::parse("#808080", 1.0, "t").unwrap();
        assert!((s.transmittance.red - 0.2158).abs() < 1e-3);
        // A custom colour is a full-strength dot's own: its swatch gives
        // each channel back, in order.
        for hex in ["#336699", "#c01a05", " #0A0b0C "] {
            let s = Shade::parse(hex, 1.0, "t").unwrap();
            let h = hex.trim();
            let want: Vec<u8> = (0..3)
                .map(|i| u8::from_str_radix(&h[1 + 2 * i..3 + 2 * i], 16).unwrap())
                .collect();
            assert_eq!(s.swatch().to_vec(), want, "{hex}");
        }
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
