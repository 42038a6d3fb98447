use super::*;

/// `app.users (id, name, email)`, `app.orders (id, user_id, amount)`, typed; ephemeral
/// CTEs named `__dbt__cte__*`; everything else unknown.
struct Catalog;

impl Relations for Catalog {
    fn is_relation_cte(&self, name: &str) -> bool {
        name.starts_with("__dbt__cte__")
    }

    fn columns(&self, relation: &str) -> Option<Vec<String>> {
        let columns: &[&str] = match relation {
            "app.users" => &["id", "name", "email"],
            "app.orders" => &["id", "user_id", "amount"],
            "__dbt__cte__eph" => &["k", "v"],
            _ => return None,
        };
        Some(columns.iter().map(|c| c.to_string()).collect())
    }

    fn column_type(&self, relation: &str, column: &str) -> Option<String> {
        match (relation, column) {
            ("app.orders", "amount") => Some("numeric(10,2)".to_string()),
            ("app.users", "id") => Some("integer".to_string()),
            _ => None,
        }
    }
}

fn problems(sql: &str) -> Vec<String> {
    let analysis = analyse(sql, &Catalog).unwrap();
    analysis
        .problems
        .iter()
        .map(|p| {
            format!(
                "{:?} `{}`: {}{}",
                p.kind,
                &sql[p.range.clone()],
                p.message,
                p.help
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

fn clean(sql: &str) {
    assert_eq!(problems(sql), Vec::<String>::new(), "{sql}");
}

#[test]
fn unknown_columns_of_known_relations_with_did_you_mean() {
    assert_eq!(
        problems("select id, nmae from app.users"),
        ["UnknownColumn `nmae`: unknown column 'nmae': app.users has no such column (did you mean 'name'?)"]
    );
    assert_eq!(
        problems("select u.id, u.emial from app.users u"),
        ["UnknownColumn `u.emial`: unknown column 'emial': u has no such column (did you mean 'email'?)"]
    );
    assert_eq!(
        problems("select id from app.users where nmae = 'x' group by id having count(emal) > 1"),
        [
            "UnknownColumn `nmae`: unknown column 'nmae': app.users has no such column (did you mean 'name'?)",
            "UnknownColumn `emal`: unknown column 'emal': app.users has no such column (did you mean 'email'?)",
        ]
    );
}

#[test]
fn qualifiers_and_ambiguity() {
    assert_eq!(
        problems("select x.id from app.users usr"),
        ["UnknownQualifier `x.id`: 'x' names no relation of the FROM clause (the FROM clause names usr)"]
    );
    assert_eq!(
        problems("select ux.id from app.users usr"),
        ["UnknownQualifier `ux.id`: 'ux' names no relation of the FROM clause (did you mean 'usr'?)"]
    );
    assert_eq!(
        problems("select id from app.users u join app.orders o on o.user_id = u.id"),
        ["AmbiguousColumn `id`: column 'id' is ambiguous: it is in u and o (qualify it, as u.id)"]
    );
    clean("select id, name, amount from app.users join app.orders using (id)");
    clean("select u.id, amount from app.users u natural join app.orders");
}

#[test]
fn relations_of_unknown_columns_are_never_guessed() {
    clean("select anything, t.whatever from raw.events t");
    clean("select id, whatever from app.users u join raw.events e on e.k = u.id");
    let analysis = analyse("select whatever from raw.events", &Catalog).unwrap();
    assert_eq!(analysis.unchecked, 1);
    clean("select x from generate_series(1, 3) as g(x)");
    clean("select g from generate_series(1, 3) g");
    clean("select value from jsonb_each('{}') j");
}

#[test]
fn ctes_subqueries_stars_and_set_operations() {
    assert_eq!(
        problems(
            "with a as (select id, name as full_name from app.users)
             select id, name from a"
        ),
        ["UnknownColumn `name`: unknown column 'name': a has no such column (did you mean 'full_name'?)"]
    );
    clean("with a as (select * from app.users) select email from a");
    assert_eq!(
        problems("with a as (select * from app.users) select mail from a"),
        ["UnknownColumn `mail`: unknown column 'mail': a has no such column (did you mean 'email'?)"]
    );
    clean("select s.total from (select sum(amount) as total from app.orders) s");
    assert_eq!(
        problems("select s.amount from (select sum(amount) as total from app.orders) s"),
        ["UnknownColumn `s.amount`: unknown column 'amount': s has no such column (the columns there are total)"]
    );
    clean("select k, v from __dbt__cte__eph");
    assert_eq!(
        problems("with u as (select id from app.users union all select user_id from app.orders) select user_id from u"),
        ["UnknownColumn `user_id`: unknown column 'user_id': u has no such column (the columns there are id)"]
    );
    clean("with recursive r as (select 1 as n union all select n + 1 from r where n < 3) select n from r");
}

#[test]
fn correlated_subqueries_see_the_outer_query() {
    clean(
        "select u.id, (select max(o.amount) from app.orders o where o.user_id = u.id) as top
         from app.users u where exists (select 1 from app.orders where user_id = u.id)",
    );
    assert_eq!(
        problems("select id from app.users u where id in (select usr_id from app.orders)"),
        ["UnknownColumn `usr_id`: unknown column 'usr_id': app.orders has no such column (did you mean 'user_id'?)"]
    );
    clean("select u.id, o.total from app.users u, lateral (select sum(amount) as total from app.orders where user_id = u.id) o");
}

#[test]
fn aliases_where_postgres_allows_them_and_not_elsewhere() {
    clean("select name as n, count(*) as c from app.users group by n order by c desc");
    clean("select distinct on (n) name as n from app.users order by n");
    assert_eq!(
        problems("select name as n from app.users where n = 'x'"),
        ["UnknownColumn `n`: unknown column 'n': app.users has no such column ('n' is an alias of the select list, which WHERE cannot see: repeat its expression)"]
    );
}

#[test]
fn names_that_are_not_columns() {
    clean("select current_date, current_timestamp, current_user, u.ctid, to_jsonb(u) from app.users u");
    clean(
        "select extract(year from current_date), interval '1 day', cast(id as text) from app.users",
    );
    clean("select count(*) filter (where amount > 0), sum(amount) over (partition by user_id order by id) from app.orders");
    clean("select 1 from app.users where name ~ '^a' and email is not null and id between 1 and 3");
}

#[test]
fn a_reserved_word_read_as_a_column_is_a_syntax_error() {
    assert_eq!(
        problems("select id + from users"),
        ["ReservedWord `from`: syntax error at 'from': an expression is missing before it (add the missing operand, or quote the name if it is a column)"]
    );
}

#[test]
fn output_columns_with_types_and_completeness() {
    let analysis = analyse(
        "select id, amount, amount::int as whole, 'x' as tag, 2 as two, count(*) as n, \
         id = 1 as is_one, coalesce(amount, 0) from app.orders",
        &Catalog,
    )
    .unwrap();
    let columns: Vec<(String, Option<String>)> = analysis
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.data_type.clone()))
        .collect();
    let t = |s: &str| Some(s.to_string());
    assert_eq!(
        columns,
        [
            ("id".to_string(), None),
            ("amount".to_string(), t("numeric(10,2)")),
            ("whole".to_string(), t("integer")),
            ("tag".to_string(), t("text")),
            ("two".to_string(), t("integer")),
            ("n".to_string(), t("bigint")),
            ("is_one".to_string(), t("boolean")),
            ("coalesce".to_string(), None),
        ]
    );
    assert!(analysis.complete);
    assert!(
        !analyse("select * from raw.events", &Catalog)
            .unwrap()
            .complete
    );
    assert!(
        !analyse("select trim(name) from app.users", &Catalog)
            .unwrap()
            .complete
    );
}

#[test]
fn statements_other_than_a_query_are_not_analysed() {
    assert_eq!(analyse("delete from t", &Catalog), Err(SqlError::NotAQuery));
}
