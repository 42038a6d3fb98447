//! Statements of an enforced model contract, as dbt-postgres builds them: the queries whose
//! result types PostgreSQL resolves (the model's SQL returning no rows, and the declared
//! columns cast from null), the table of differences when they disagree, and the table
//! DDL with its columns, types and constraints followed by `insert into ... select`.

use std::collections::BTreeMap;

use mart_project::{Constraint, ConstraintType};

use crate::ddl::{wrap_body, BACKUP_SUFFIX};
use crate::quote::{quote_ident, quote_literal};
use crate::relation::{suffixed_identifier, Relation};

/// One declared column of a contract.
#[derive(Clone, Debug)]
pub struct ContractColumn {
    pub name: String,
    /// `quote: true`: the name is quoted; otherwise written as declared (as dbt does).
    pub quote: bool,
    /// The declared type, after [`translate_type`].
    pub data_type: String,
    pub constraints: Vec<Constraint>,
}

impl ContractColumn {
    fn sql_name(&self) -> String {
        if self.quote {
            quote_ident(&self.name)
        } else {
            self.name.clone()
        }
    }
}

/// An enforced contract's table: its columns, its model-level constraints, and the
/// relation each foreign key's `to:` (as written) stands for.
#[derive(Clone, Copy, Debug)]
pub struct ContractTable<'a> {
    pub columns: &'a [ContractColumn],
    pub constraints: &'a [Constraint],
    pub parents: &'a BTreeMap<String, Relation>,
}

/// dbt's type alias (`Column.translate_type`) when `alias_types` is on: `string` is
/// `text`; any other type is kept as written.
pub fn translate_type(data_type: &str, alias_types: bool) -> String {
    let data_type = data_type.trim();
    if alias_types && data_type.eq_ignore_ascii_case("string") {
        "TEXT".to_string()
    } else {
        data_type.to_string()
    }
}

/// The name dbt-postgres gives a result column's type when it checks a contract: the
/// driver's type class of the type's OID (`text` and `varchar` are both `STRING`, `int2`
/// and `int4` both `INTEGER`), `STRING` shown as `TEXT` as dbt's `Column` translates it,
/// and `unknown type_code <oid>` for a type the driver has no class for (`uuid`).
pub fn contract_type_code(oid: u32) -> String {
    let class = match oid {
        16 => "BOOLEAN",
        17 => "BINARY",
        18 | 19 | 25 | 1042 | 1043 => "TEXT",
        20 => "LONGINTEGER",
        21 | 23 => "INTEGER",
        26 => "ROWID",
        114 => "JSON",
        199 => "JSONARRAY",
        651 => "CIDRARRAY",
        700 | 701 => "FLOAT",
        704 | 1186 => "INTERVAL",
        705 => "UNKNOWN",
        1000 => "BOOLEANARRAY",
        1001 => "BINARYARRAY",
        1002 | 1003 | 1009 | 1014 | 1015 => "STRINGARRAY",
        1005..=1007 => "INTEGERARRAY",
        1013 | 1028 => "ROWIDARRAY",
        1016 => "LONGINTEGERARRAY",
        1021 | 1022 => "FLOATARRAY",
        1040 => "MACADDRARRAY",
        1041 => "INETARRAY",
        1082 => "DATE",
        1083 | 1266 => "TIME",
        1114 => "DATETIME",
        1115 => "DATETIMEARRAY",
        1182 => "DATEARRAY",
        1183 | 1270 => "TIMEARRAY",
        1184 => "DATETIMETZ",
        1185 => "DATETIMETZARRAY",
        1187 => "INTERVALARRAY",
        1231 => "DECIMALARRAY",
        1700 => "DECIMAL",
        3802 => "JSONB",
        3807 => "JSONBARRAY",
        3904 | 3906 | 3926 => "type",
        3905 | 3907 | 3927 => "typeARRAY",
        3908 => "tsrange",
        3909 => "tsrangeARRAY",
        3910 => "tstzrange",
        3911 => "tstzrangeARRAY",
        3912 => "daterange",
        3913 => "daterangeARRAY",
        _ => return format!("unknown type_code {oid}"),
    };
    class.to_string()
}

/// [`contract_type_code`] of a type by its name as the catalog spells it
/// (`character varying(20)`, `bigint`, ...); `None` for a type not listed here.
pub fn contract_type_class(type_name: &str) -> Option<&'static str> {
    let base = type_name.split('(').next().unwrap_or_default().trim();
    Some(match base {
        "boolean" => "BOOLEAN",
        "bytea" => "BINARY",
        "text" | "character varying" | "character" | "name" | "\"char\"" => "TEXT",
        "bigint" => "LONGINTEGER",
        "smallint" | "integer" => "INTEGER",
        "real" | "double precision" => "FLOAT",
        "numeric" => "DECIMAL",
        "date" => "DATE",
        "time without time zone" | "time with time zone" => "TIME",
        "timestamp without time zone" => "DATETIME",
        "timestamp with time zone" => "DATETIMETZ",
        "interval" => "INTERVAL",
        "json" => "JSON",
        "jsonb" => "JSONB",
        _ => return None,
    })
}

/// The model's SQL returning no rows: its result columns are what the contract is checked
/// against (dbt's `get_empty_subquery_sql`).
pub fn empty_subquery(sql: &str) -> String {
    format!(
        "select * from {} as __mart_sbq\nwhere false\nlimit 0",
        wrap_body(sql)
    )
}

/// The declared columns cast from null, so PostgreSQL resolves each declared type to the
/// type the table column will have (`int` and `integer` are both `int4`).
pub fn empty_schema_query(columns: &[ContractColumn]) -> String {
    let items: Vec<String> = columns
        .iter()
        .map(|c| format!("cast(null as {}) as {}", c.data_type, c.sql_name()))
        .collect();
    format!("select {}", items.join(", "))
}

/// One difference between the model's columns (`definition_type`) and its contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractMismatch {
    pub column: String,
    pub definition_type: Option<String>,
    pub contract_type: Option<String>,
}

impl ContractMismatch {
    fn reason(&self) -> &'static str {
        match (&self.definition_type, &self.contract_type) {
            (Some(_), None) => "missing in contract",
            (None, _) => "missing in definition",
            (Some(_), Some(_)) => "data type mismatch",
        }
    }
}

/// The differences between the `(name, type)` columns the SQL returns and those the
/// contract declares, as PostgreSQL resolved both and named by [`contract_type_code`];
/// empty when they match.
pub fn contract_mismatches(
    definition: &[(String, String)],
    contract: &[(String, String)],
) -> Vec<ContractMismatch> {
    let mut found = Vec::new();
    for (name, actual) in definition {
        match contract.iter().find(|(n, _)| n == name) {
            Some((_, declared)) if declared == actual => {}
            declared => found.push(ContractMismatch {
                column: name.clone(),
                definition_type: Some(actual.clone()),
                contract_type: declared.map(|(_, t)| t.clone()),
            }),
        }
    }
    for (name, declared) in contract {
        if !definition.iter().any(|(n, _)| n == name) {
            found.push(ContractMismatch {
                column: name.clone(),
                definition_type: None,
                contract_type: Some(declared.clone()),
            });
        }
    }
    found
}

/// dbt's table of contract differences: column_name, definition_type, contract_type,
/// mismatch_reason.
pub fn mismatch_table(mismatches: &[ContractMismatch]) -> String {
    let header = [
        "column_name",
        "definition_type",
        "contract_type",
        "mismatch_reason",
    ];
    let rows: Vec<[String; 4]> = mismatches
        .iter()
        .map(|m| {
            [
                m.column.clone(),
                m.definition_type.clone().unwrap_or_default(),
                m.contract_type.clone().unwrap_or_default(),
                m.reason().to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    let mut out = vec![
        line(&header.map(String::from)),
        line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()),
    ];
    out.extend(rows.iter().map(|r| line(r)));
    out.join("\n")
}

fn constraint_prefix(c: &Constraint) -> String {
    c.name
        .as_deref()
        .map_or(String::new(), |name| format!("constraint {name} "))
}

fn references(c: &Constraint, parents: &BTreeMap<String, Relation>) -> String {
    match &c.to {
        Some(to) => {
            let parent = parents
                .get(to)
                .map_or_else(|| to.clone(), |r| r.to_string());
            format!("references {parent} ({})", c.to_columns.join(", "))
        }
        None => format!("references {}", c.expression.as_deref().unwrap_or_default()),
    }
}

/// A column constraint as dbt's `render_column_constraint` writes it.
fn column_constraint(c: &Constraint, parents: &BTreeMap<String, Relation>) -> String {
    let expression = c.expression.as_deref().unwrap_or_default();
    let body = match c.kind {
        ConstraintType::NotNull => "not null".to_string(),
        ConstraintType::Unique => "unique".to_string(),
        ConstraintType::PrimaryKey => "primary key".to_string(),
        ConstraintType::Check => format!("check ({expression})"),
        ConstraintType::ForeignKey => references(c, parents),
        ConstraintType::Custom => expression.to_string(),
    };
    format!("{}{body}", constraint_prefix(c))
}

/// A model-level constraint as dbt's `render_model_constraint` writes it; `None` for
/// `not_null`, which the property file reader refuses at model level.
fn model_constraint(c: &Constraint, parents: &BTreeMap<String, Relation>) -> Option<String> {
    let columns = c.columns.join(", ");
    let expression = c.expression.as_deref().unwrap_or_default();
    let body = match c.kind {
        ConstraintType::NotNull => return None,
        ConstraintType::Unique => format!("unique ({columns})"),
        ConstraintType::PrimaryKey => format!("primary key ({columns})"),
        ConstraintType::Check => format!("check ({expression})"),
        ConstraintType::ForeignKey => format!("foreign key ({columns}) {}", references(c, parents)),
        ConstraintType::Custom => expression.to_string(),
    };
    Some(format!("{}{body}", constraint_prefix(c)))
}

/// A named primary key or unique constraint is an index, whose name is unique in the
/// schema: the old table's is renamed out of the way (`<name>__mart_backup`, dropped with
/// the old table) before the new table takes the name. `None` when no such constraint is
/// named. Only the old table's own constraint is renamed, and only if it has it.
pub(crate) fn free_index_names(old: &Relation, table: &ContractTable<'_>) -> Option<String> {
    let named = table
        .columns
        .iter()
        .flat_map(|c| &c.constraints)
        .chain(table.constraints)
        .filter(|c| matches!(c.kind, ConstraintType::PrimaryKey | ConstraintType::Unique))
        .filter_map(|c| c.name.as_deref());
    let steps: Vec<String> = named
        .map(|name| {
            let folded = folded_name(name);
            format!(
                "  if exists (select from pg_catalog.pg_constraint where conrelid = to_regclass({}) and conname = {}) then\n    alter table {old} rename constraint {} to {};\n  end if;",
                quote_literal(&old.to_string()),
                quote_literal(&folded),
                quote_ident(&folded),
                quote_ident(&suffixed_identifier(&folded, BACKUP_SUFFIX)),
            )
        })
        .collect();
    (!steps.is_empty()).then(|| format!("do $mart$\nbegin\n{}\nend\n$mart$", steps.join("\n")))
}

/// The name PostgreSQL gives `constraint <name>` as dbt writes it: folded to lower case
/// unless double-quoted.
fn folded_name(name: &str) -> String {
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => name.to_ascii_lowercase(),
    }
}

/// `create [unlogged] table R (columns and constraints)` then `insert into R (columns)
/// select columns from (sql)`: dbt-postgres's contract DDL, so PostgreSQL enforces the
/// constraints on the inserted rows.
pub(crate) fn create_and_insert(
    relation: &Relation,
    sql: &str,
    table: &ContractTable<'_>,
    unlogged: bool,
) -> Vec<String> {
    let mut items: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let mut item = format!("{} {}", c.sql_name(), c.data_type);
            for constraint in &c.constraints {
                item.push(' ');
                item.push_str(&column_constraint(constraint, table.parents));
            }
            item
        })
        .collect();
    items.extend(
        table
            .constraints
            .iter()
            .filter_map(|c| model_constraint(c, table.parents)),
    );
    let names: Vec<String> = table.columns.iter().map(ContractColumn::sql_name).collect();
    let names = names.join(", ");
    let unlogged = if unlogged { "unlogged " } else { "" };
    vec![
        format!(
            "create {unlogged}table {relation} (\n    {}\n)",
            items.join(",\n    ")
        ),
        format!(
            "insert into {relation} ({names})\nselect {names}\nfrom {} as model_subq",
            wrap_body(sql)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_classes_by_name_agree_with_those_by_oid() {
        for (name, oid) in [
            ("boolean", 16),
            ("text", 25),
            ("character varying(20)", 1043),
            ("character(3)", 1042),
            ("bigint", 20),
            ("integer", 23),
            ("smallint", 21),
            ("double precision", 701),
            ("numeric(10,2)", 1700),
            ("date", 1082),
            ("timestamp without time zone", 1114),
            ("timestamp with time zone", 1184),
            ("jsonb", 3802),
        ] {
            assert_eq!(
                contract_type_class(name),
                Some(contract_type_code(oid).as_str()),
                "{name}"
            );
        }
        assert_eq!(contract_type_class("uuid"), None);
    }

    fn constraint(kind: ConstraintType) -> Constraint {
        Constraint {
            kind,
            name: None,
            expression: None,
            warn_unenforced: true,
            warn_unsupported: true,
            to: None,
            to_columns: Vec::new(),
            columns: Vec::new(),
        }
    }

    #[test]
    fn translates_dbt_type_aliases() {
        assert_eq!(translate_type("string", true), "TEXT");
        assert_eq!(translate_type("integer", true), "integer");
        assert_eq!(translate_type("string", false), "string");
        assert_eq!(translate_type(" numeric(10,2) ", true), "numeric(10,2)");
    }

    #[test]
    fn empty_queries() {
        let columns = [
            ContractColumn {
                name: "id".into(),
                quote: false,
                data_type: "int".into(),
                constraints: Vec::new(),
            },
            ContractColumn {
                name: "Name".into(),
                quote: true,
                data_type: "varchar(10)".into(),
                constraints: Vec::new(),
            },
        ];
        insta::assert_snapshot!(empty_schema_query(&columns), @r#"select cast(null as int) as id, cast(null as varchar(10)) as "Name""#);
        insta::assert_snapshot!(empty_subquery("select 1 as id -- c\n;"), @r"
        select * from (
        select 1 as id -- c
        ) as __mart_sbq
        where false
        limit 0
        ");
    }

    #[test]
    fn mismatches_in_dbt_order() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        let found = contract_mismatches(
            &[s("id", "TEXT"), s("extra", "INTEGER"), s("ok", "DECIMAL")],
            &[s("id", "INTEGER"), s("ok", "DECIMAL"), s("gone", "DATE")],
        );
        insta::assert_snapshot!(mismatch_table(&found), @r"
        | column_name | definition_type | contract_type | mismatch_reason       |
        | ----------- | --------------- | ------------- | --------------------- |
        | id          | TEXT            | INTEGER       | data type mismatch    |
        | extra       | INTEGER         |               | missing in contract   |
        | gone        |                 | DATE          | missing in definition |
        ");
        assert!(contract_mismatches(&[s("a", "INTEGER")], &[s("a", "INTEGER")]).is_empty());
    }

    #[test]
    fn type_codes_as_dbt_postgres_names_them() {
        // varchar, text and bpchar share the driver's string class; int2 and int4 share
        // INTEGER while int8 is LONGINTEGER; uuid has no class.
        let names: Vec<String> = [1043, 25, 1042, 21, 23, 20, 1700, 1184, 1007, 2950]
            .into_iter()
            .map(contract_type_code)
            .collect();
        assert_eq!(
            names,
            [
                "TEXT",
                "TEXT",
                "TEXT",
                "INTEGER",
                "INTEGER",
                "LONGINTEGER",
                "DECIMAL",
                "DATETIMETZ",
                "INTEGERARRAY",
                "unknown type_code 2950"
            ]
        );
    }

    #[test]
    fn contract_table_ddl() {
        let parent = Relation::new(None, "analytics", "customers");
        let parents = BTreeMap::from([("ref('customers')".to_string(), parent)]);
        let mut fk = constraint(ConstraintType::ForeignKey);
        fk.to = Some("ref('customers')".into());
        fk.to_columns = vec!["id".into()];
        let mut unique = constraint(ConstraintType::Unique);
        unique.name = Some("UQ_Amount".into());
        let mut check = constraint(ConstraintType::Check);
        check.expression = Some("amount >= 0".into());
        check.name = Some("amount_positive".into());
        let columns = [
            ContractColumn {
                name: "order_id".into(),
                quote: false,
                data_type: "int".into(),
                constraints: vec![constraint(ConstraintType::NotNull)],
            },
            ContractColumn {
                name: "customer_id".into(),
                quote: false,
                data_type: "int".into(),
                constraints: vec![fk],
            },
            ContractColumn {
                name: "amount".into(),
                quote: true,
                data_type: "numeric(10,2)".into(),
                constraints: vec![check, unique],
            },
        ];
        let mut pk = constraint(ConstraintType::PrimaryKey);
        pk.columns = vec!["order_id".into(), "customer_id".into()];
        let mut model_fk = constraint(ConstraintType::ForeignKey);
        model_fk.columns = vec!["customer_id".into()];
        model_fk.expression = Some("analytics.customers (id)".into());
        model_fk.name = Some("fk_customer".into());
        let table = ContractTable {
            columns: &columns,
            constraints: &[pk, model_fk],
            parents: &parents,
        };
        let statements = crate::contract_table_statements(
            &Relation::new(None, "analytics", "orders"),
            "select 1 as order_id, 2 as customer_id, 3.0 as amount",
            Some(crate::RelationKind::Table),
            false,
            &table,
        );
        insta::assert_snapshot!(statements.join(";\n\n"));
    }
}
