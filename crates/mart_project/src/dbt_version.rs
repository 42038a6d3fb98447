//! dbt's version ranges: ">=1.0.0", "<2.0.0", "1.1.1" (exactly), as packages.yml's hub
//! `version:` and `require-dbt-version` write them (dbt semver, with `1.0` read as
//! `1.0.0`). Ranges intersect across requirers; the highest version inside is picked,
//! prereleases only when asked for. Also the dbt version mart behaves as.

use std::cmp::Ordering;
use std::fmt;

use semver::Version;

/// The dbt-core version whose behaviour mart follows: what `dbt_version` says to
/// templates, what `require-dbt-version` and hub packages' requirements are checked
/// against.
pub const DBT_VERSION: &str = "1.10.0";

/// Whether [`DBT_VERSION`] lies inside every range of `required` (each may hold several,
/// comma-separated, as dbt allows); the first range that cannot be read is the error.
pub fn dbt_allows<'a>(required: impl IntoIterator<Item = &'a str>) -> Result<bool, String> {
    let Some(ours) = parse_version(DBT_VERSION) else {
        return Ok(true);
    };
    let mut range = VersionRange::default();
    for text in required.into_iter().flat_map(|r| r.split(',')) {
        match range.narrowed(&Constraint::parse(text)?) {
            Some(narrowed) => range = narrowed,
            None => return Ok(false),
        }
    }
    Ok(range.contains(&ours))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Exact,
}

/// One range string of a `version:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    op: Op,
    version: Version,
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (op, rest) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Exact),
        ]
        .into_iter()
        .find_map(|(prefix, op)| text.strip_prefix(prefix).map(|rest| (op, rest)))
        .unwrap_or((Op::Exact, text));
        let version = parse_version(rest.trim()).ok_or_else(|| {
            format!(
                "`{text}` is not a version range (write e.g. \">=1.0.0\", \"<2.0.0\" or \"1.1.1\")"
            )
        })?;
        Ok(Self { op, version })
    }

    /// Whether this constraint names a prerelease (which lets prereleases be picked).
    pub fn is_prerelease(&self) -> bool {
        !self.version.pre.is_empty()
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Exact => "",
        };
        write!(f, "{op}{}", self.version)
    }
}

/// A version as dbt reads it: `major.minor[.patch][-pre][+build]`, an optional `v`.
pub fn parse_version(text: &str) -> Option<Version> {
    let text = text.strip_prefix('v').unwrap_or(text);
    if let Ok(v) = Version::parse(text) {
        return Some(v);
    }
    let split = text.find(['-', '+']).unwrap_or(text.len());
    let (core, tail) = text.split_at(split);
    let dots = core.matches('.').count();
    (dots == 1)
        .then(|| Version::parse(&format!("{core}.0{tail}")).ok())
        .flatten()
}

/// The versions every constraint so far allows: a lower and an upper bound, each
/// inclusive or not.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct VersionRange {
    lower: Option<(Version, bool)>,
    upper: Option<(Version, bool)>,
}

impl VersionRange {
    /// The range narrowed by `c`, or `None` when nothing is left.
    pub fn narrowed(&self, c: &Constraint) -> Option<VersionRange> {
        let v = c.version.clone();
        let (lower, upper) = match c.op {
            Op::Ge => (Some((v, true)), None),
            Op::Gt => (Some((v, false)), None),
            Op::Le => (None, Some((v, true))),
            Op::Lt => (None, Some((v, false))),
            Op::Exact => (Some((v.clone(), true)), Some((v, true))),
        };
        let range = VersionRange {
            lower: tighter(self.lower.clone(), lower, Ordering::Greater),
            upper: tighter(self.upper.clone(), upper, Ordering::Less),
        };
        (!range.is_empty()).then_some(range)
    }

    fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Some((lo, lo_incl)), Some((hi, hi_incl))) => match lo.cmp(hi) {
                Ordering::Greater => true,
                Ordering::Equal => !(*lo_incl && *hi_incl),
                Ordering::Less => false,
            },
            _ => false,
        }
    }

    pub fn contains(&self, v: &Version) -> bool {
        let above = self.lower.as_ref().is_none_or(|(lo, incl)| {
            let ord = v.cmp(lo);
            ord == Ordering::Greater || (*incl && ord == Ordering::Equal)
        });
        let below = self.upper.as_ref().is_none_or(|(hi, incl)| {
            let ord = v.cmp(hi);
            ord == Ordering::Less || (*incl && ord == Ordering::Equal)
        });
        above && below
    }

    /// The highest of `candidates` (version strings as the hub spells them) inside the
    /// range; prereleases only if `prerelease`.
    pub fn highest<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
        prerelease: bool,
    ) -> Option<&'a str> {
        candidates
            .into_iter()
            .filter_map(|s| parse_version(s).map(|v| (v, s)))
            .filter(|(v, _)| (prerelease || v.pre.is_empty()) && self.contains(v))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, s)| s)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = |b: &Option<(Version, bool)>, incl_op: &str, op: &str| {
            b.as_ref()
                .map(|(v, incl)| format!("{}{v}", if *incl { incl_op } else { op }))
        };
        match (&self.lower, &self.upper) {
            (Some((lo, true)), Some((hi, true))) if lo == hi => write!(f, "={lo}"),
            _ => {
                let parts: Vec<String> =
                    [bound(&self.lower, ">=", ">"), bound(&self.upper, "<=", "<")]
                        .into_iter()
                        .flatten()
                        .collect();
                if parts.is_empty() {
                    write!(f, "any version")
                } else {
                    write!(f, "{}", parts.join(", "))
                }
            }
        }
    }
}

/// The tighter of two bounds: `wanted` is the ordering a tighter version has (greater
/// for lower bounds, less for upper ones); on a tie the exclusive bound wins.
fn tighter(
    a: Option<(Version, bool)>,
    b: Option<(Version, bool)>,
    wanted: Ordering,
) -> Option<(Version, bool)> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => match a.0.cmp(&b.0) {
            Ordering::Equal => Some((a.0, a.1 && b.1)),
            ord if ord == wanted => Some(a),
            _ => Some(b),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbt_allows_reads_lists_and_comma_separated_ranges() {
        assert_eq!(dbt_allows([">=1.3.0", "<3.0.0"]), Ok(true));
        assert_eq!(dbt_allows([">=1.3.0,<2.0.0"]), Ok(true));
        assert_eq!(dbt_allows([">=2.0.0"]), Ok(false));
        assert_eq!(dbt_allows([">=1.11", "<1.9"]), Ok(false));
        assert_eq!(dbt_allows(Vec::<&str>::new()), Ok(true));
        assert!(dbt_allows(["about 1"]).is_err());
    }

    fn range(constraints: &[&str]) -> Option<VersionRange> {
        constraints
            .iter()
            .try_fold(VersionRange::default(), |r, c| {
                r.narrowed(&Constraint::parse(c).unwrap())
            })
    }

    const HUB: [&str; 7] = [
        "0.9.6", "1.0.0", "1.1.1", "1.2.0", "1.3.0-b1", "1.3.0", "2.0.0",
    ];

    #[test]
    fn intersects_ranges_and_picks_the_highest() {
        let r = range(&[">=1.0.0", "<2.0.0"]).unwrap();
        assert_eq!(r.to_string(), ">=1.0.0, <2.0.0");
        assert_eq!(r.highest(HUB, false), Some("1.3.0"));
        let r = range(&[">=1.0.0", "<2.0.0", "<1.3.0"]).unwrap();
        assert_eq!(r.highest(HUB, false), Some("1.2.0"));
        let r = range(&["1.1.1"]).unwrap();
        assert_eq!(r.to_string(), "=1.1.1");
        assert_eq!(r.highest(HUB, false), Some("1.1.1"));
        assert_eq!(
            range(&[">1.2.0", "<=1.3.0"]).unwrap().highest(HUB, false),
            Some("1.3.0")
        );
        assert_eq!(
            range(&[">=2.0"]).unwrap().highest(HUB, false),
            Some("2.0.0")
        );
        assert_eq!(range(&[">=3.0.0"]).unwrap().highest(HUB, false), None);
    }

    #[test]
    fn empty_intersections_are_none() {
        assert_eq!(range(&[">=1.0.0", "<1.0.0"]), None);
        assert_eq!(range(&["1.1.1", "1.2.0"]), None);
        assert_eq!(range(&[">1.0.0", "<=1.0.0"]), None);
        assert!(range(&[">=1.0.0", "<=1.0.0"]).is_some());
    }

    #[test]
    fn prereleases_only_when_asked() {
        let r = range(&[">1.2.0", "<1.3.0"]).unwrap();
        assert_eq!(r.highest(HUB, false), None);
        assert_eq!(r.highest(HUB, true), Some("1.3.0-b1"));
        assert!(Constraint::parse("1.3.0-b1").unwrap().is_prerelease());
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(Constraint::parse("~=1.0")
            .unwrap_err()
            .contains("`~=1.0` is not a version range"));
        assert!(Constraint::parse("latest").is_err());
        assert_eq!(parse_version("1.0"), Some(Version::new(1, 0, 0)));
    }
}
