//! SCIM filters (`scim::filter`'s trees) as SQL, over an allow-list of attributes per
//! resource type: what may be filtered and sorted on, and the column or subquery that
//! holds it. Anything else is refused with a message that lists what is supported.
//!
//! The SQL is text with `$n` parameters and a list of values to bind in order, the same
//! on both backends (SQLite reads `$n` too); the few functions that differ (`instr` and
//! `strpos`) are chosen by [`Backend`].

use super::{Backend, Db};
use crate::error::Result;
use crate::scim::filter::{AttrPath, Filter, Op};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;

/// A value to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// A string.
    Text(String),
    /// A time (PostgreSQL; SQLite's are text).
    Time(DateTime<Utc>),
}

/// Where an attribute lives.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A text column or expression. `lower` is an expression already lower-cased in Rust
    /// (compared with the value lower-cased: caseExact false); `None` with `exact` marks a
    /// case-exact column compared as is, else the column is lower-cased in SQL.
    Text {
        /// The column.
        expr: &'static str,
        /// Compared with its case (caseExact).
        exact: bool,
        /// The column lower-cased in Rust, to compare without case.
        lower: Option<&'static str>,
    },
    /// A condition: the attribute is true exactly when it holds.
    Bool(&'static str),
    /// A time column.
    Time(&'static str),
    /// The same string for every row (`emails.type` is always "work").
    ConstText(&'static str),
    /// The same boolean for every row.
    ConstBool(bool),
    /// A multi-valued attribute kept in another table: `from` is a subquery's
    /// `SELECT 1 FROM … WHERE <joined to the row>`; its values' sub-attributes are `subs`,
    /// and `default_sub` is what the attribute alone compares (`roles eq "x"`).
    Multi {
        /// `SELECT 1 FROM … WHERE <joined to the row>`.
        from: &'static str,
        /// The values' sub-attributes.
        subs: &'static [(&'static str, Kind)],
        /// The sub-attribute the attribute alone compares.
        default_sub: &'static str,
    },
}

/// What one resource type can be filtered on: (lower-case dotted path, kind).
pub type Attributes = &'static [(&'static str, Kind)];

/// The schema URIs whose attributes a resource type knows (lower-case), besides none.
pub type Uris = &'static [&'static str];

const ROLE_SUBS: &[(&str, Kind)] =
    &[("value", Kind::Text { expr: "r.key", exact: true, lower: None }), ("display", Kind::Text { expr: "r.name", exact: false, lower: None })];
const GROUP_SUBS: &[(&str, Kind)] = &[
    ("value", Kind::Text { expr: "g.id", exact: true, lower: None }),
    ("display", Kind::Text { expr: "g.name", exact: false, lower: None }),
    ("type", Kind::Text { expr: "g.kind", exact: false, lower: None }),
];
const NAME_ONLY: &[(&str, Kind)] = &[("value", Kind::Text { expr: "g.name", exact: false, lower: None })];

/// The User resource, over `users u`.
pub const USER_ATTRIBUTES: Attributes = &[
    ("id", Kind::Text { expr: "u.id", exact: true, lower: None }),
    ("externalid", Kind::Text { expr: "u.external_id", exact: true, lower: None }),
    ("username", Kind::Text { expr: "COALESCE(u.user_name, u.email)", exact: false, lower: Some("COALESCE(u.user_name_lower, u.email_lower)") }),
    ("displayname", Kind::Text { expr: "u.display_name", exact: false, lower: Some("u.sort_name") }),
    ("name.givenname", Kind::Text { expr: "u.first_name", exact: false, lower: None }),
    ("name.familyname", Kind::Text { expr: "u.last_name", exact: false, lower: None }),
    ("name.formatted", Kind::Text { expr: "u.display_name", exact: false, lower: Some("u.sort_name") }),
    ("active", Kind::Bool("u.status = 'active'")),
    ("emails.value", Kind::Text { expr: "u.email", exact: false, lower: Some("u.email_lower") }),
    ("emails.type", Kind::ConstText("work")),
    ("emails.primary", Kind::ConstBool(true)),
    ("meta.created", Kind::Time("u.created_at")),
    ("meta.lastmodified", Kind::Time("u.modified_at")),
    (
        "roles",
        Kind::Multi {
            from: "SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id",
            subs: ROLE_SUBS,
            default_sub: "value",
        },
    ),
    (
        "groups",
        Kind::Multi {
            from: "SELECT 1 FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id",
            subs: GROUP_SUBS,
            default_sub: "value",
        },
    ),
    // The enterprise extension's department and organization: the user's department and
    // company by name.
    (
        "department",
        Kind::Multi {
            from: "SELECT 1 FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id AND g.kind = 'department'",
            subs: NAME_ONLY,
            default_sub: "value",
        },
    ),
    (
        "organization",
        Kind::Multi {
            from: "SELECT 1 FROM user_groups ug JOIN groups g ON g.id = ug.group_id WHERE ug.user_id = u.id AND g.kind = 'company'",
            subs: NAME_ONLY,
            default_sub: "value",
        },
    ),
];

/// The schema URIs a User's attributes may be written with.
pub const USER_URIS: Uris = &["urn:ietf:params:scim:schemas:core:2.0:user", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"];

/// The Group resource, over `groups g`.
pub const GROUP_ATTRIBUTES: Attributes = &[
    ("id", Kind::Text { expr: "g.id", exact: true, lower: None }),
    ("externalid", Kind::Text { expr: "g.external_id", exact: true, lower: None }),
    ("displayname", Kind::Text { expr: "g.name", exact: false, lower: None }),
    ("meta.created", Kind::Time("g.created_at")),
    ("meta.lastmodified", Kind::Time("g.modified_at")),
    (
        "members",
        Kind::Multi {
            from: "SELECT 1 FROM user_groups m JOIN users mu ON mu.id = m.user_id WHERE m.group_id = g.id",
            subs: &[
                ("value", Kind::Text { expr: "mu.id", exact: true, lower: None }),
                ("display", Kind::Text { expr: "mu.display_name", exact: false, lower: Some("mu.sort_name") }),
            ],
            default_sub: "value",
        },
    ),
];

/// The schema URIs a Group's attributes may be written with.
pub const GROUP_URIS: Uris = &["urn:ietf:params:scim:schemas:core:2.0:group"];

/// SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ', …)`, in chrono's words.
const SQLITE_TIME: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// What SCIM shows of a user beyond the `/v1` representation.
#[derive(Debug, Clone)]
pub struct Extras {
    /// `externalId`.
    pub external_id: Option<String>,
    /// `userName`, when it is not the address.
    pub user_name: Option<String>,
    /// `meta.lastModified`.
    pub modified_at: DateTime<Utc>,
}

/// One page of the users of `org` matching `condition` (its parameters from `$2`), in
/// `sort` order (then by id) from `offset`, and how many match in all.
pub async fn user_page(
    db: &Db,
    org: &str,
    condition: Option<&Condition>,
    sort: Option<&str>,
    descending: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<String>, i64)> {
    page_of(db, "users u", "u", org, condition, sort, descending, offset, limit).await
}

/// A page of ids of `from` (a table and its alias) in `org`: what [`user_page`] and
/// [`group_page`] share.
#[allow(clippy::too_many_arguments)]
async fn page_of(
    db: &Db,
    from: &str,
    alias: &str,
    org: &str,
    condition: Option<&Condition>,
    sort: Option<&str>,
    descending: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<String>, i64)> {
    let filter = condition.map_or_else(String::new, |c| format!(" AND {}", c.sql));
    let order = if descending { "DESC" } else { "ASC" };
    let by = sort.map_or_else(String::new, |column| format!("{column} {order}, "));
    let n = condition.map_or(0, |c| c.binds.len());
    let page =
        format!("SELECT {alias}.id FROM {from} WHERE {alias}.org_id = $1{filter} ORDER BY {by}{alias}.id {order} LIMIT ${} OFFSET ${}", n + 2, n + 3);
    let count = format!("SELECT COUNT(*) FROM {from} WHERE {alias}.org_id = $1{filter}");
    let binds: &[Bind] = condition.map_or(&[], |c| &c.binds);
    on!(db, |db| {
        let mut q = sqlx::query_scalar::<_, String>(&page).bind(org);
        let mut c = sqlx::query_scalar::<_, i64>(&count).bind(org);
        for b in binds {
            match b {
                Bind::Text(s) => {
                    q = q.bind(s.clone());
                    c = c.bind(s.clone());
                }
                Bind::Time(t) => {
                    q = q.bind(*t);
                    c = c.bind(*t);
                }
            }
        }
        let ids = if limit == 0 { Vec::new() } else { q.bind(limit).bind(offset).fetch_all(db).await? };
        let total = c.fetch_one(db).await?;
        Ok((ids, total))
    })
}

#[derive(sqlx::FromRow)]
struct ExtrasRow {
    id: String,
    external_id: Option<String>,
    user_name: Option<String>,
    modified_at: DateTime<Utc>,
}

/// The [`Extras`] of the users of `org` among `ids`.
pub async fn user_extras(db: &Db, org: &str, ids: &[&str]) -> Result<HashMap<String, Extras>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    on!(db, |db| {
        let mut qb = sqlx::QueryBuilder::new("SELECT id, external_id, user_name, modified_at FROM users WHERE org_id = ");
        qb.push_bind(org.to_owned()).push(" AND id IN ");
        super::push_id_list(&mut qb, ids);
        let rows: Vec<ExtrasRow> = qb.build_query_as().fetch_all(db).await?;
        Ok(rows.into_iter().map(|r| (r.id, Extras { external_id: r.external_id, user_name: r.user_name, modified_at: r.modified_at })).collect())
    })
}

/// What carries an external id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A user.
    User,
    /// A department or company.
    Group,
}

impl Owner {
    /// The table, and the column that names a row for a person.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Self::User => ("users", "display_name"),
            Self::Group => ("groups", "name"),
        }
    }
}

/// Which user or group of `org` (their name) has the external id `external`, other than
/// `except`.
pub async fn external_id_holder(conn: &mut super::Conn, owner: Owner, org: &str, external: &str, except: Option<&str>) -> Result<Option<String>> {
    let (table, name) = owner.table();
    let sql = format!("SELECT {name} FROM {table} WHERE org_id = $1 AND external_id = $2 AND id <> $3");
    on!(conn, |conn| { Ok(sqlx::query_scalar(&sql).bind(org).bind(external).bind(except.unwrap_or("")).fetch_optional(&mut *conn).await?) })
}

/// Sets (or clears) the external id of user or group `id` of `org`; the caller checked it
/// is free inside the same write transaction. A user's version moves by trigger; a
/// group's is moved here (its triggers watch its name).
pub async fn set_external_id(conn: &mut super::Conn, owner: Owner, org: &str, id: &str, external: Option<&str>) -> Result<()> {
    let sql = match owner {
        Owner::User => "UPDATE users SET external_id = $1 WHERE id = $2 AND org_id = $3",
        Owner::Group => "UPDATE groups SET external_id = $1, version = version + 1 WHERE id = $2 AND org_id = $3",
    };
    on!(conn, |conn| {
        sqlx::query(sql).bind(external).bind(id).bind(org).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Who (their organization and display name) is known by `user_name` — as their
/// userName, or by an address that is their userName — other than `except`.
pub async fn user_name_holder(conn: &mut super::Conn, user_name: &str, except: Option<&str>) -> Result<Option<(String, String)>> {
    on!(conn, |conn| {
        Ok(sqlx::query_as(
            "SELECT org_id, display_name FROM users WHERE (user_name_lower = $1 OR (user_name_lower IS NULL AND email_lower = $1)) AND id <> $2 LIMIT 1",
        )
        .bind(user_name.to_lowercase())
        .bind(except.unwrap_or(""))
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// Sets (or clears: the address is the userName) the userName of user `id` of `org`,
/// moving their version; the caller checked it is free inside the same write transaction.
pub async fn set_user_name(conn: &mut super::Conn, org: &str, id: &str, user_name: Option<&str>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE users SET user_name = $1, user_name_lower = $2, version = version + 1 WHERE id = $3 AND org_id = $4")
            .bind(user_name)
            .bind(user_name.map(str::to_lowercase))
            .bind(id)
            .bind(org)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// A group as SCIM shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `department` or `company`.
    pub kind: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its name or members last changed.
    pub modified_at: DateTime<Utc>,
    /// Its version (the name's).
    pub version: i64,
    /// Moves with each membership.
    pub members_version: i64,
}

/// One page of the groups of `org` matching `condition`, as [`user_page`] pages users.
pub async fn group_page(
    db: &Db,
    org: &str,
    condition: Option<&Condition>,
    sort: Option<&str>,
    descending: bool,
    offset: i64,
    limit: i64,
) -> Result<(Vec<String>, i64)> {
    page_of(db, "groups g", "g", org, condition, sort, descending, offset, limit).await
}

/// The groups of `org` among `ids`.
pub async fn groups(db: &Db, org: &str, ids: &[&str]) -> Result<HashMap<String, GroupRow>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    on!(db, |db| {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT id, name, kind, external_id, created_at, modified_at, version, members_version FROM groups WHERE org_id = ",
        );
        qb.push_bind(org.to_owned()).push(" AND id IN ");
        super::push_id_list(&mut qb, ids);
        let rows: Vec<GroupRow> = qb.build_query_as().fetch_all(db).await?;
        Ok(rows.into_iter().map(|g| (g.id.clone(), g)).collect())
    })
}

/// The member ids of each of the groups `ids`, in id order.
pub async fn members(db: &Db, ids: &[&str]) -> Result<HashMap<String, Vec<String>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    on!(db, |db| {
        let mut qb = sqlx::QueryBuilder::new("SELECT group_id, user_id FROM user_groups WHERE group_id IN ");
        super::push_id_list(&mut qb, ids);
        qb.push(" ORDER BY group_id, user_id");
        let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(db).await?;
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (group, user) in rows {
            out.entry(group).or_default().push(user);
        }
        Ok(out)
    })
}

/// Why a filter cannot be run: the message for SCIM's `invalidFilter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// A filter as a SQL condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The condition, with `$first`… parameters.
    pub sql: String,
    /// The values of those parameters, in order.
    pub binds: Vec<Bind>,
}

/// Translates `filter` for a resource of `attributes` (and `uris`), numbering parameters
/// from `$first`.
pub fn condition(backend: Backend, attributes: Attributes, uris: Uris, filter: &Filter, first: usize) -> Result<Condition, Unsupported> {
    let mut t = Translator { backend, attributes, uris, binds: Vec::new(), first };
    let sql = t.filter(filter, None)?;
    Ok(Condition { sql, binds: t.binds })
}

/// The column a list is sorted by for `sortBy`, when it can be (text and time attributes
/// of the resource itself).
pub fn sort_column(attributes: Attributes, uris: Uris, path: &AttrPath) -> Result<&'static str, Unsupported> {
    check_uri(uris, path)?;
    let dotted = path.dotted();
    match lookup(attributes, &dotted) {
        Some(Kind::Text { lower: Some(lower), .. }) => Ok(lower),
        Some(Kind::Text { expr, .. }) | Some(Kind::Time(expr)) => Ok(expr),
        Some(_) => Err(Unsupported(format!("sorting by {dotted} is not supported"))),
        None => Err(Unsupported(format!("sorting by {dotted} is not supported: {}", known(attributes)))),
    }
}

fn lookup(attributes: Attributes, dotted: &str) -> Option<Kind> {
    attributes.iter().find(|(name, _)| *name == dotted).map(|(_, kind)| *kind)
}

fn known(attributes: Attributes) -> String {
    let names: Vec<&str> = attributes.iter().map(|(n, _)| *n).collect();
    format!("the attributes that can be used are {}", names.join(", "))
}

fn check_uri(uris: Uris, path: &AttrPath) -> Result<(), Unsupported> {
    match &path.uri {
        Some(uri) if !uris.contains(&uri.to_ascii_lowercase().as_str()) => Err(Unsupported(format!("this resource type has no schema {uri}"))),
        _ => Ok(()),
    }
}

struct Translator {
    backend: Backend,
    attributes: Attributes,
    uris: Uris,
    binds: Vec<Bind>,
    first: usize,
}

/// Inside a multi-valued attribute's value filter: its name and sub-attributes.
type Within = (&'static str, &'static [(&'static str, Kind)]);

impl Translator {
    fn param(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.first + self.binds.len() - 1)
    }

    fn filter(&mut self, filter: &Filter, within: Option<Within>) -> Result<String, Unsupported> {
        Ok(match filter {
            Filter::And(a, b) => format!("({} AND {})", self.filter(a, within)?, self.filter(b, within)?),
            Filter::Or(a, b) => format!("({} OR {})", self.filter(a, within)?, self.filter(b, within)?),
            Filter::Not(a) => format!("(NOT {})", self.filter(a, within)?),
            Filter::Present(path) => self.attribute(path, None, within)?,
            Filter::Compare(path, op, value) => self.attribute(path, Some((*op, value)), within)?,
            Filter::ValuePath(path, inner) => {
                if within.is_some() {
                    return Err(Unsupported("a value filter cannot hold another".into()));
                }
                check_uri(self.uris, path)?;
                match lookup(self.attributes, &path.name) {
                    Some(Kind::Multi { from, subs, .. }) => {
                        let cond = self.filter(inner, Some((static_name(self.attributes, &path.name), subs)))?;
                        format!("EXISTS ({from} AND {cond})")
                    }
                    // A complex attribute of one value (name, or emails, which holds one):
                    // its sub-attributes are the resource's own `name.sub` paths.
                    _ if self.attributes.iter().any(|(n, _)| n.starts_with(&format!("{}.", path.name))) => {
                        self.filter(&prefixed(inner, &path.name), None)?
                    }
                    _ => return Err(Unsupported(format!("{} has no values to filter: {}", path.name, known(self.attributes)))),
                }
            }
        })
    }

    /// `path` present (no comparison) or compared.
    fn attribute(&mut self, path: &AttrPath, cmp: Option<(Op, &Value)>, within: Option<Within>) -> Result<String, Unsupported> {
        if let Some((multi, subs)) = within {
            let name = path.dotted();
            let kind = subs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, k)| *k)
                .ok_or_else(|| Unsupported(format!("{multi} has no sub-attribute {name} to filter on")))?;
            return self.kind(&format!("{multi}.{name}"), kind, cmp);
        }
        check_uri(self.uris, path)?;
        let dotted = path.dotted();
        if let Some(kind) = lookup(self.attributes, &dotted) {
            return match kind {
                Kind::Multi { from, subs, default_sub } => {
                    let sub = subs.iter().find(|(n, _)| *n == default_sub).map(|(_, k)| *k).unwrap_or(Kind::ConstBool(true));
                    let cond = self.kind(&dotted, sub, cmp)?;
                    Ok(format!("EXISTS ({from} AND {cond})"))
                }
                kind => self.kind(&dotted, kind, cmp),
            };
        }
        // `roles.value`, `groups.display`…: a sub-attribute of a multi-valued attribute,
        // true when some value matches.
        if let Some(sub) = &path.sub
            && let Some(Kind::Multi { from, subs, .. }) = lookup(self.attributes, &path.name)
        {
            let kind = subs
                .iter()
                .find(|(n, _)| n == sub)
                .map(|(_, k)| *k)
                .ok_or_else(|| Unsupported(format!("{} has no sub-attribute {sub} to filter on", path.name)))?;
            let cond = self.kind(&dotted, kind, cmp)?;
            return Ok(format!("EXISTS ({from} AND {cond})"));
        }
        Err(Unsupported(format!("filtering on {dotted} is not supported: {}", known(self.attributes))))
    }

    fn kind(&mut self, name: &str, kind: Kind, cmp: Option<(Op, &Value)>) -> Result<String, Unsupported> {
        let Some((op, value)) = cmp else {
            return Ok(match kind {
                Kind::Text { expr, .. } => format!("({expr} IS NOT NULL AND {expr} <> '')"),
                Kind::Time(expr) => format!("({expr} IS NOT NULL)"),
                Kind::Bool(_) | Kind::ConstText(_) | Kind::ConstBool(_) => "(1 = 1)".into(),
                Kind::Multi { .. } => return Err(Unsupported(format!("{name}: use one of its sub-attributes"))),
            });
        };
        match kind {
            Kind::Text { expr, exact, lower } => {
                let Value::String(s) = value else {
                    return Err(Unsupported(format!("{name} is a string: compare it with a quoted value")));
                };
                let (column, v) = match (exact, lower) {
                    (true, _) => (expr.to_owned(), s.clone()),
                    (false, Some(lower)) => (lower.to_owned(), s.to_lowercase()),
                    (false, None) => (format!("lower({expr})"), s.to_lowercase()),
                };
                Ok(self.text(&column, op, v))
            }
            Kind::Bool(cond) => {
                let Value::Bool(b) = value else {
                    return Err(Unsupported(format!("{name} is a boolean: compare it with true or false")));
                };
                match op {
                    Op::Eq if *b => Ok(format!("({cond})")),
                    Op::Ne if !*b => Ok(format!("({cond})")),
                    Op::Eq | Op::Ne => Ok(format!("(NOT ({cond}))")),
                    _ => Err(Unsupported(format!("{name} is a boolean: only eq and ne compare it"))),
                }
            }
            Kind::Time(expr) => {
                let sql_op = match op {
                    Op::Eq => "=",
                    Op::Ne => "<>",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Co | Op::Sw | Op::Ew => return Err(Unsupported(format!("{name} is a time: co, sw and ew do not apply to it"))),
                };
                let at = match value {
                    Value::String(s) => DateTime::parse_from_rfc3339(s)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| Unsupported(format!("{name} is a time: give it as RFC 3339, e.g. \"2026-01-31T09:00:00Z\"")))?,
                    _ => return Err(Unsupported(format!("{name} is a time: compare it with a quoted RFC 3339 value"))),
                };
                // SQLite keeps times as text, not all in one format (sqlx's for the
                // columns it writes, the triggers' for `modified_at`): both sides are put
                // in the triggers' format, which orders as the times do.
                Ok(match self.backend {
                    Backend::Sqlite => {
                        let p = self.param(Bind::Text(at.format(SQLITE_TIME).to_string()));
                        format!("(strftime('%Y-%m-%dT%H:%M:%fZ', {expr}) {sql_op} {p})")
                    }
                    Backend::Postgres => {
                        let p = self.param(Bind::Time(at));
                        format!("({expr} {sql_op} {p})")
                    }
                })
            }
            Kind::ConstText(constant) => {
                let Value::String(s) = value else {
                    return Err(Unsupported(format!("{name} is a string: compare it with a quoted value")));
                };
                let (c, s) = (constant.to_lowercase(), s.to_lowercase());
                let holds = match op {
                    Op::Eq => c == s,
                    Op::Ne => c != s,
                    Op::Co => c.contains(&s),
                    Op::Sw => c.starts_with(&s),
                    Op::Ew => c.ends_with(&s),
                    Op::Gt => c > s,
                    Op::Ge => c >= s,
                    Op::Lt => c < s,
                    Op::Le => c <= s,
                };
                Ok(if holds { "(1 = 1)" } else { "(1 = 0)" }.into())
            }
            Kind::ConstBool(constant) => {
                let Value::Bool(b) = value else {
                    return Err(Unsupported(format!("{name} is a boolean: compare it with true or false")));
                };
                let holds = match op {
                    Op::Eq => constant == *b,
                    Op::Ne => constant != *b,
                    _ => return Err(Unsupported(format!("{name} is a boolean: only eq and ne compare it"))),
                };
                Ok(if holds { "(1 = 1)" } else { "(1 = 0)" }.into())
            }
            Kind::Multi { .. } => Err(Unsupported(format!("{name}: use one of its sub-attributes"))),
        }
    }

    /// A text comparison of `column` with `v` (both already in the case they compare in).
    fn text(&mut self, column: &str, op: Op, v: String) -> String {
        let position = match self.backend {
            Backend::Sqlite => "instr",
            Backend::Postgres => "strpos",
        };
        match op {
            Op::Eq => format!("({column} = {})", self.param(Bind::Text(v))),
            // A missing value is not equal to anything.
            Op::Ne => format!("({column} IS NULL OR {column} <> {})", self.param(Bind::Text(v))),
            Op::Co => format!("({position}({column}, {}) > 0)", self.param(Bind::Text(v))),
            Op::Sw => {
                let (a, b) = (self.param(Bind::Text(v.clone())), self.param(Bind::Text(v)));
                format!("(substr({column}, 1, length({a})) = {b})")
            }
            Op::Ew => {
                let (a, b, c) = (self.param(Bind::Text(v.clone())), self.param(Bind::Text(v.clone())), self.param(Bind::Text(v)));
                format!("(length({column}) >= length({a}) AND substr({column}, length({column}) - length({b}) + 1) = {c})")
            }
            Op::Gt => format!("({column} > {})", self.param(Bind::Text(v))),
            Op::Ge => format!("({column} >= {})", self.param(Bind::Text(v))),
            Op::Lt => format!("({column} < {})", self.param(Bind::Text(v))),
            Op::Le => format!("({column} <= {})", self.param(Bind::Text(v))),
        }
    }
}

/// The allow-list's own spelling of the attribute `name` (for messages).
fn static_name(attributes: Attributes, name: &str) -> &'static str {
    attributes.iter().find(|(n, _)| *n == name).map_or("value", |(n, _)| *n)
}

/// `inner` with every path `x` made `attr.x` (a value filter on a one-valued attribute).
fn prefixed(inner: &Filter, attr: &str) -> Filter {
    let fix = |p: &AttrPath| AttrPath { uri: p.uri.clone(), name: attr.to_owned(), sub: Some(p.dotted()) };
    match inner {
        Filter::Compare(p, op, v) => Filter::Compare(fix(p), *op, v.clone()),
        Filter::Present(p) => Filter::Present(fix(p)),
        Filter::And(a, b) => Filter::And(Box::new(prefixed(a, attr)), Box::new(prefixed(b, attr))),
        Filter::Or(a, b) => Filter::Or(Box::new(prefixed(a, attr)), Box::new(prefixed(b, attr))),
        Filter::Not(a) => Filter::Not(Box::new(prefixed(a, attr))),
        Filter::ValuePath(p, f) => Filter::ValuePath(p.clone(), f.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse;

    fn users(f: &str) -> Result<Condition, Unsupported> {
        condition(Backend::Sqlite, USER_ATTRIBUTES, USER_URIS, &parse(f).unwrap(), 2)
    }

    #[test]
    fn user_names_compare_without_case_through_the_lower_cased_column() {
        let c = users(r#"userName eq "BJensen@Example.com""#).unwrap();
        assert_eq!(c.sql, "(COALESCE(u.user_name_lower, u.email_lower) = $2)");
        assert_eq!(c.binds, vec![Bind::Text("bjensen@example.com".into())]);
        let c = users(r#"externalId eq "AbC""#).unwrap();
        assert_eq!((c.sql.as_str(), c.binds), ("(u.external_id = $2)", vec![Bind::Text("AbC".into())]));
        let c = users(r#"name.givenName sw "Ba""#).unwrap();
        assert_eq!(c.sql, "(substr(lower(u.first_name), 1, length($2)) = $3)");
        let c = condition(Backend::Postgres, USER_ATTRIBUTES, USER_URIS, &parse(r#"displayName co "an""#).unwrap(), 1).unwrap();
        assert_eq!(c.sql, "(strpos(u.sort_name, $1) > 0)");
    }

    #[test]
    fn booleans_times_constants_and_logic() {
        assert_eq!(users("active eq false").unwrap().sql, "(NOT (u.status = 'active'))");
        assert_eq!(users("active ne false").unwrap().sql, "(u.status = 'active')");
        let c = users(r#"meta.lastModified gt "2026-01-01T00:00:00+01:00""#).unwrap();
        assert_eq!(c.sql, "(strftime('%Y-%m-%dT%H:%M:%fZ', u.modified_at) > $2)");
        assert_eq!(c.binds, vec![Bind::Text("2025-12-31T23:00:00.000Z".into())]);
        let on_postgres =
            condition(Backend::Postgres, USER_ATTRIBUTES, USER_URIS, &parse(r#"meta.created le "2026-01-01T00:00:00Z""#).unwrap(), 1).unwrap();
        assert_eq!(on_postgres.sql, "(u.created_at <= $1)");
        assert_eq!(on_postgres.binds, vec![Bind::Time("2026-01-01T00:00:00Z".parse().unwrap())]);
        assert_eq!(users(r#"emails[type eq "work"]"#).unwrap().sql, "(1 = 1)");
        let c = users(r#"emails[type eq "work" and value co "@example.com"] or not (active eq true)"#).unwrap();
        assert_eq!(c.sql, "(((1 = 1) AND (instr(u.email_lower, $2) > 0)) OR (NOT (u.status = 'active')))");
        assert_eq!(users(r#"emails.primary eq false"#).unwrap().sql, "(1 = 0)");
    }

    #[test]
    fn multi_valued_attributes_are_exists_subqueries() {
        let c = users(r#"roles.value eq "admin""#).unwrap();
        assert!(c.sql.starts_with("EXISTS (SELECT 1 FROM user_roles ur JOIN roles r"), "{}", c.sql);
        assert!(c.sql.ends_with("AND (r.key = $2))"), "{}", c.sql);
        let c = users(r#"groups[display eq "Sales" and type eq "department"]"#).unwrap();
        assert!(c.sql.contains("((lower(g.name) = $2) AND (lower(g.kind) = $3))"), "{}", c.sql);
        let c = users(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#).unwrap();
        assert!(c.sql.contains("g.kind = 'department' AND (lower(g.name) = $2)"), "{}", c.sql);
        let c = condition(Backend::Sqlite, GROUP_ATTRIBUTES, GROUP_URIS, &parse(r#"members[value eq "u1"]"#).unwrap(), 3).unwrap();
        assert!(c.sql.ends_with("WHERE m.group_id = g.id AND (mu.id = $3))"), "{}", c.sql);
    }

    #[test]
    fn what_cannot_be_filtered_is_refused_with_what_can() {
        let err = users(r#"nickName eq "x""#).unwrap_err();
        assert!(err.0.contains("filtering on nickname is not supported") && err.0.contains("username"), "{}", err.0);
        assert!(users("active eq \"yes\"").unwrap_err().0.contains("boolean"));
        assert!(users("active gt true").unwrap_err().0.contains("only eq and ne"));
        assert!(users("userName eq 12").unwrap_err().0.contains("quoted"));
        assert!(users(r#"meta.created gt "yesterday""#).unwrap_err().0.contains("RFC 3339"));
        assert!(users(r#"meta.created co "2026""#).unwrap_err().0.contains("co, sw and ew"));
        assert!(users(r#"roles[nope eq "x"]"#).unwrap_err().0.contains("no sub-attribute nope"));
        assert!(users(r#"urn:example:other:Thing:userName eq "x""#).unwrap_err().0.contains("no schema"));
        let sort = sort_column(USER_ATTRIBUTES, USER_URIS, &crate::scim::filter::parse_attr("userName").unwrap()).unwrap();
        assert_eq!(sort, "COALESCE(u.user_name_lower, u.email_lower)");
        assert!(sort_column(USER_ATTRIBUTES, USER_URIS, &crate::scim::filter::parse_attr("roles").unwrap()).is_err());
    }
}
