//! Relation names and kinds.

use std::fmt;

use crate::quote::quote_ident;

/// PostgreSQL's identifier limit in bytes (`NAMEDATALEN - 1`). Longer identifiers are
/// silently truncated by the server.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// A (possibly database-qualified) relation: `"db"."schema"."identifier"`.
///
/// `Display` quotes every part and omits the database part when it is `None`.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Relation {
    pub database: Option<String>,
    pub schema: String,
    pub identifier: String,
}

impl Relation {
    pub fn new(
        database: Option<String>,
        schema: impl Into<String>,
        identifier: impl Into<String>,
    ) -> Self {
        Relation {
            database,
            schema: schema.into(),
            identifier: identifier.into(),
        }
    }

    /// The same database and schema with another identifier.
    pub fn with_identifier(&self, identifier: impl Into<String>) -> Relation {
        Relation {
            database: self.database.clone(),
            schema: self.schema.clone(),
            identifier: identifier.into(),
        }
    }

    /// The same relation, qualified by schema only (`"schema"."identifier"`).
    pub fn without_database(&self) -> Relation {
        Relation {
            database: None,
            schema: self.schema.clone(),
            identifier: self.identifier.clone(),
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(database) = &self.database {
            write!(f, "{}.", quote_ident(database))?;
        }
        write!(
            f,
            "{}.{}",
            quote_ident(&self.schema),
            quote_ident(&self.identifier)
        )
    }
}

/// What kind of relation an existing name refers to in the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// An ordinary or partitioned table.
    Table,
    View,
    MaterializedView,
    ForeignTable,
    /// Anything else that lives in `pg_class` (sequence, index, composite type, ...).
    Other,
}

impl RelationKind {
    /// Maps `pg_class.relkind` to a kind (`r`/`p` table, `v` view, `m` materialized view,
    /// `f` foreign table, anything else `Other`).
    pub fn from_pg_relkind(relkind: u8) -> RelationKind {
        match relkind {
            b'r' | b'p' => RelationKind::Table,
            b'v' => RelationKind::View,
            b'm' => RelationKind::MaterializedView,
            b'f' => RelationKind::ForeignTable,
            _ => RelationKind::Other,
        }
    }

    /// The SQL keyword(s) naming this kind in `DROP`/`ALTER` (`table`, `view`,
    /// `materialized view`, `foreign table`). `Other` maps to `table`, so PostgreSQL itself
    /// reports a clear "is not a table" error with a hint naming the right command.
    pub fn sql_keyword(self) -> &'static str {
        match self {
            RelationKind::Table | RelationKind::Other => "table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::ForeignTable => "foreign table",
        }
    }
}

impl fmt::Display for RelationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RelationKind::Table => "table",
            RelationKind::View => "view",
            RelationKind::MaterializedView => "materialized view",
            RelationKind::ForeignTable => "foreign table",
            RelationKind::Other => "other relation",
        })
    }
}

/// Length of the hash tag (`_` + 8 hex digits) added when a base identifier is cut.
const HASH_TAG_BYTES: usize = 9;

/// `identifier` + `suffix`, cut so the result fits PostgreSQL's 63-byte identifier limit.
///
/// When everything fits, the result is the plain concatenation. Otherwise the base is cut
/// at a character boundary and `_` + an 8-hex-digit stable hash (FNV-1a) of the FULL base
/// is inserted before the suffix, so two long names sharing a prefix never collide. The
/// function is deterministic across runs and platforms, which lets a later run find the
/// leftovers of a killed one.
pub fn suffixed_identifier(identifier: &str, suffix: &str) -> String {
    if identifier.len() + suffix.len() <= MAX_IDENTIFIER_BYTES {
        return format!("{identifier}{suffix}");
    }
    // Only absurd suffixes need cutting themselves; keep room for at least the hash tag.
    let suffix = truncate_at_char_boundary(suffix, MAX_IDENTIFIER_BYTES - HASH_TAG_BYTES);
    let room = MAX_IDENTIFIER_BYTES - HASH_TAG_BYTES - suffix.len();
    let base = truncate_at_char_boundary(identifier, room);
    format!("{base}_{:08x}{suffix}", short_hash(identifier))
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// 32-bit fold of 64-bit FNV-1a: stable, dependency-free, good enough to separate names.
fn short_hash(s: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in s.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((hash >> 32) ^ (hash & 0xffff_ffff)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_every_part() {
        let r = Relation::new(Some("an\"alytics".into()), "Mart", "orders");
        assert_eq!(r.to_string(), r#""an""alytics"."Mart"."orders""#);
        assert_eq!(r.without_database().to_string(), r#""Mart"."orders""#);
        assert_eq!(
            r.with_identifier("x").to_string(),
            r#""an""alytics"."Mart"."x""#
        );
    }

    #[test]
    fn short_names_are_plain_concatenations() {
        assert_eq!(
            suffixed_identifier("orders", "__mart_tmp"),
            "orders__mart_tmp"
        );
        let exactly = "a".repeat(53);
        assert_eq!(
            suffixed_identifier(&exactly, "__mart_tmp"),
            format!("{exactly}__mart_tmp")
        );
        assert_eq!(suffixed_identifier(&exactly, "__mart_tmp").len(), 63);
    }

    #[test]
    fn long_names_fit_and_do_not_collide() {
        let a = format!("{}_a", "x".repeat(70));
        let b = format!("{}_b", "x".repeat(70));
        for suffix in ["__mart_tmp", "__mart_backup"] {
            let ta = suffixed_identifier(&a, suffix);
            let tb = suffixed_identifier(&b, suffix);
            assert!(ta.len() <= MAX_IDENTIFIER_BYTES, "{ta}");
            assert!(tb.len() <= MAX_IDENTIFIER_BYTES, "{tb}");
            assert!(ta.ends_with(suffix));
            assert_ne!(ta, tb);
            // Stable across calls.
            assert_eq!(ta, suffixed_identifier(&a, suffix));
        }
        // One byte over the limit already triggers the hash.
        let over = "a".repeat(54);
        let t = suffixed_identifier(&over, "__mart_tmp");
        assert_eq!(t.len(), 63);
        assert_ne!(t, format!("{over}__mart_tmp"));
    }

    #[test]
    fn multibyte_names_are_cut_on_char_boundaries() {
        // 3 bytes per Hangul syllable; 30 syllables = 90 bytes.
        let korean = "가나다라마바사아자차".repeat(3);
        for suffix in ["__mart_tmp", "__mart_backup"] {
            let t = suffixed_identifier(&korean, suffix);
            assert!(t.len() <= MAX_IDENTIFIER_BYTES, "{t} is {} bytes", t.len());
            assert!(t.ends_with(suffix));
            assert!(t.starts_with("가나다"));
        }
        // 4-byte chars: a cut must never split one.
        let emoji = "🦀".repeat(20);
        let t = suffixed_identifier(&emoji, "__mart_backup");
        assert!(t.len() <= MAX_IDENTIFIER_BYTES);
        assert!(t.starts_with("🦀"));
        // A multibyte name that fits is untouched.
        let fits = "가".repeat(17); // 51 bytes + 10 = 61
        assert_eq!(
            suffixed_identifier(&fits, "__mart_tmp"),
            format!("{fits}__mart_tmp")
        );
    }

    #[test]
    fn snapshot_of_long_names() {
        let names = [
            suffixed_identifier(&"a".repeat(54), "__mart_tmp"),
            suffixed_identifier(&"a".repeat(54), "__mart_backup"),
            suffixed_identifier(&"가나다라마바사아자차".repeat(3), "__mart_tmp"),
            suffixed_identifier("short", &"s".repeat(80)),
        ];
        insta::assert_debug_snapshot!(names);
    }

    #[test]
    fn relkinds() {
        assert_eq!(RelationKind::from_pg_relkind(b'r'), RelationKind::Table);
        assert_eq!(RelationKind::from_pg_relkind(b'p'), RelationKind::Table);
        assert_eq!(RelationKind::from_pg_relkind(b'v'), RelationKind::View);
        assert_eq!(
            RelationKind::from_pg_relkind(b'm'),
            RelationKind::MaterializedView
        );
        assert_eq!(
            RelationKind::from_pg_relkind(b'f'),
            RelationKind::ForeignTable
        );
        assert_eq!(RelationKind::from_pg_relkind(b'S'), RelationKind::Other);
    }
}
