//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON: the result is then read like the
//! body of a PUT, so both go through one path into the domain.
//!
//! What identity providers really send is accepted as they send it: operation names in
//! any case (Entra's `Replace`), a path-less `add`/`replace` whose value object names
//! attributes (Okta's `{"active": false}`, Entra's `{"name.givenName": …}`), `remove` on
//! a multi-valued attribute with the values to remove in `value` (Entra's members), and
//! `add`/`replace` on a value path that matches nothing adding a value (Entra's
//! `emails[type eq "work"].value`).

use super::error::{ScimError, ScimResult};
use super::filter::{self, AttrPath, Filter, Op, PatchPath};
use serde_json::{Map, Value};

/// At most this many operations in one PATCH.
pub const MAX_OPERATIONS: usize = 100;

/// Applies the `Operations` of `body` to `resource` (an object) and returns it.
pub fn apply(mut resource: Value, body: &Value, core_uri: &str) -> ScimResult<Value> {
    let schemas = body.get("schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(super::discovery::PATCH_OP)))) {
        return Err(ScimError::bad("invalidSyntax", format!("A PATCH body has \"schemas\": [\"{}\"].", super::discovery::PATCH_OP)));
    }
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::bad("invalidSyntax", "A PATCH body has an \"Operations\" array."))?;
    if ops.is_empty() {
        return Err(ScimError::bad("invalidSyntax", "\"Operations\" is empty: nothing to do."));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad("tooMany", format!("A PATCH has at most {MAX_OPERATIONS} operations; this one has {}.", ops.len())));
    }
    for (i, op) in ops.iter().enumerate() {
        let kind = op.get("op").and_then(Value::as_str).map(str::to_ascii_lowercase);
        let path = op.get("path").and_then(Value::as_str).map(str::trim).filter(|p| !p.is_empty());
        let value = op.get("value");
        let at = |e: ScimError| e.prefixed(&format!("Operation {}", i + 1));
        let obj = resource.as_object_mut().ok_or_else(|| ScimError::bad("invalidValue", "the resource is not an object"))?;
        match (kind.as_deref(), path) {
            (Some("add" | "replace"), None) => {
                let Some(Value::Object(values)) = value else {
                    return Err(at(ScimError::bad("invalidValue", "an operation without a path needs an object as its value")));
                };
                for (key, v) in values {
                    // A key may itself be a path (Entra) or an extension's URI with an object.
                    if v.is_object() && is_schema_uri(key) {
                        merge_extension(obj, key, v);
                        continue;
                    }
                    let path = filter::parse_path(key).map_err(|e| at(ScimError::bad("invalidPath", e.0)))?;
                    set(obj, &path, v.clone(), kind.as_deref() == Some("add"), core_uri).map_err(at)?;
                }
            }
            // The path is an extension's URI: its object as a whole.
            (Some(k @ ("add" | "replace")), Some(p)) if is_schema_uri(p) => {
                let Some(values @ Value::Object(_)) = value else {
                    return Err(at(ScimError::bad("invalidValue", format!("`{k}` of {p} needs an object"))));
                };
                if k == "replace"
                    && let Some(key) = existing_key(obj, p)
                {
                    obj.remove(&key);
                }
                merge_extension(obj, p, values);
            }
            (Some("remove"), Some(p)) if is_schema_uri(p) => {
                if let Some(key) = existing_key(obj, p) {
                    obj.remove(&key);
                }
            }
            (Some(k @ ("add" | "replace")), Some(p)) => {
                let value = value.ok_or_else(|| at(ScimError::bad("invalidValue", format!("`{k}` needs a value"))))?;
                let path = filter::parse_path(p).map_err(|e| at(ScimError::bad("invalidPath", e.0)))?;
                set(obj, &path, value.clone(), k == "add", core_uri).map_err(at)?;
            }
            (Some("remove"), Some(p)) => {
                let path = filter::parse_path(p).map_err(|e| at(ScimError::bad("invalidPath", e.0)))?;
                remove(obj, &path, value, core_uri).map_err(at)?;
            }
            (Some("remove"), None) => return Err(at(ScimError::bad("noTarget", "`remove` needs a path"))),
            (Some(other), _) => return Err(at(ScimError::bad("invalidSyntax", format!("`{other}` is not an operation: add, replace or remove")))),
            (None, _) => return Err(at(ScimError::bad("invalidSyntax", "each operation has an \"op\""))),
        }
    }
    Ok(resource)
}

/// `urn:…:2.0:User` and the like: a schema URI rather than an attribute path (whose last
/// part, an attribute, starts in lower case).
fn is_schema_uri(key: &str) -> bool {
    key.to_ascii_lowercase().starts_with("urn:") && key.rsplit(':').next().is_some_and(|last| last.chars().next().is_some_and(char::is_uppercase))
}

fn merge_extension(obj: &mut Map<String, Value>, uri: &str, values: &Value) {
    let key = existing_key(obj, uri).unwrap_or_else(|| uri.to_owned());
    let entry = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if let (Some(target), Some(values)) = (entry.as_object_mut(), values.as_object()) {
        for (k, v) in values {
            let k = existing_key(target, k).unwrap_or_else(|| k.clone());
            target.insert(k, v.clone());
        }
    }
}

/// The key of `obj` equal to `name` without regard to case.
fn existing_key(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// The object a path's attribute lives in: the resource itself, or an extension's object.
fn container<'a>(obj: &'a mut Map<String, Value>, attr: &AttrPath, core_uri: &str, create: bool) -> Option<&'a mut Map<String, Value>> {
    match &attr.uri {
        Some(uri) if !uri.eq_ignore_ascii_case(core_uri) => {
            let key = match existing_key(obj, uri) {
                Some(k) => k,
                None if create => {
                    obj.insert(uri.clone(), Value::Object(Map::new()));
                    uri.clone()
                }
                None => return None,
            };
            obj.get_mut(&key).and_then(Value::as_object_mut)
        }
        _ => Some(obj),
    }
}

fn set(obj: &mut Map<String, Value>, path: &PatchPath, value: Value, add: bool, core_uri: &str) -> ScimResult<()> {
    match path {
        PatchPath::Attr(attr) => {
            let target = container(obj, attr, core_uri, true).ok_or_else(|| ScimError::bad("invalidPath", format!("no {attr}")))?;
            let key = existing_key(target, &attr.name).unwrap_or_else(|| attr.name.clone());
            match &attr.sub {
                None => {
                    let merged = match (add, target.get_mut(&key), value) {
                        // `add` to a multi-valued attribute appends the new values.
                        (true, Some(Value::Array(have)), Value::Array(more)) => {
                            for v in more {
                                if !have.contains(&v) {
                                    have.push(v);
                                }
                            }
                            return Ok(());
                        }
                        (true, Some(Value::Array(have)), v @ Value::Object(_)) => {
                            if !have.contains(&v) {
                                have.push(v);
                            }
                            return Ok(());
                        }
                        // `add` of an object to a complex attribute merges it.
                        (true, Some(Value::Object(have)), Value::Object(more)) => {
                            for (k, v) in more {
                                let k = existing_key(have, &k).unwrap_or(k);
                                have.insert(k, v);
                            }
                            return Ok(());
                        }
                        (_, _, v) => v,
                    };
                    target.insert(key, merged);
                }
                Some(sub) => {
                    let entry = target.entry(key).or_insert_with(|| Value::Object(Map::new()));
                    match entry {
                        Value::Object(o) => {
                            let k = existing_key(o, sub).unwrap_or_else(|| sub.clone());
                            o.insert(k, value);
                        }
                        // `emails.value` on a multi-valued attribute: every value's.
                        Value::Array(items) => {
                            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                                let k = existing_key(item, sub).unwrap_or_else(|| sub.clone());
                                item.insert(k, value.clone());
                            }
                        }
                        _ => return Err(ScimError::bad("invalidPath", format!("{attr} is not complex"))),
                    }
                }
            }
        }
        PatchPath::Values { attr, filter, sub } => {
            let target = container(obj, attr, core_uri, true).ok_or_else(|| ScimError::bad("invalidPath", format!("no {attr}")))?;
            let key = existing_key(target, &attr.name).unwrap_or_else(|| attr.name.clone());
            let items = target.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(items) = items else {
                return Err(ScimError::bad("invalidPath", format!("{} is not multi-valued", attr.name)));
            };
            let mut matched = false;
            for item in items.iter_mut().filter(|i| matches(filter, i)) {
                matched = true;
                match (sub, item) {
                    (Some(sub), Value::Object(o)) => {
                        let k = existing_key(o, sub).unwrap_or_else(|| sub.clone());
                        o.insert(k, value.clone());
                    }
                    (None, item) => *item = value.clone(),
                    _ => {}
                }
            }
            if !matched {
                // Nothing matched: a value is added, made from the filter's equalities
                // (`emails[type eq "work"].value` adds {"type": "work", "value": …}).
                let mut new = Map::new();
                equalities(filter, &mut new);
                match sub {
                    Some(sub) => {
                        new.insert(sub.clone(), value);
                    }
                    None => {
                        if let Value::Object(v) = value {
                            new.extend(v);
                        }
                    }
                }
                items.push(Value::Object(new));
            }
        }
    }
    Ok(())
}

fn remove(obj: &mut Map<String, Value>, path: &PatchPath, value: Option<&Value>, core_uri: &str) -> ScimResult<()> {
    match path {
        PatchPath::Attr(attr) => {
            let Some(target) = container(obj, attr, core_uri, false) else { return Ok(()) };
            let Some(key) = existing_key(target, &attr.name) else { return Ok(()) };
            match (&attr.sub, value) {
                // Entra: `remove` of members with the values to take out in `value`.
                (None, Some(Value::Array(gone))) if target.get(&key).is_some_and(Value::is_array) => {
                    let ids: Vec<&Value> = gone.iter().map(|g| g.get("value").unwrap_or(g)).collect();
                    if let Some(Value::Array(items)) = target.get_mut(&key) {
                        items.retain(|i| !ids.contains(&i.get("value").unwrap_or(i)));
                    }
                }
                (None, _) => {
                    target.remove(&key);
                }
                (Some(sub), _) => match target.get_mut(&key) {
                    Some(Value::Object(o)) => {
                        if let Some(k) = existing_key(o, sub) {
                            o.remove(&k);
                        }
                    }
                    Some(Value::Array(items)) => {
                        for item in items.iter_mut().filter_map(Value::as_object_mut) {
                            if let Some(k) = existing_key(item, sub) {
                                item.remove(&k);
                            }
                        }
                    }
                    _ => {}
                },
            }
        }
        PatchPath::Values { attr, filter, sub } => {
            let Some(target) = container(obj, attr, core_uri, false) else { return Ok(()) };
            let Some(key) = existing_key(target, &attr.name) else { return Ok(()) };
            if let Some(Value::Array(items)) = target.get_mut(&key) {
                match sub {
                    None => items.retain(|i| !matches(filter, i)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|i| matches(filter, i)).filter_map(Value::as_object_mut) {
                            if let Some(k) = existing_key(item, sub) {
                                item.remove(&k);
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// `attr eq "x"` parts of a filter, as the fields of a new value.
fn equalities(filter: &Filter, into: &mut Map<String, Value>) {
    match filter {
        Filter::Compare(p, Op::Eq, v) => {
            into.insert(p.dotted(), v.clone());
        }
        Filter::And(a, b) => {
            equalities(a, into);
            equalities(b, into);
        }
        _ => {}
    }
}

/// Whether one value of a multi-valued attribute matches a value filter.
pub fn matches(filter: &Filter, item: &Value) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, item) && matches(b, item),
        Filter::Or(a, b) => matches(a, item) || matches(b, item),
        Filter::Not(a) => !matches(a, item),
        Filter::Present(p) => field(item, p).is_some_and(|v| !v.is_null() && v != &Value::String(String::new())),
        Filter::Compare(p, op, want) => {
            let Some(have) = field(item, p) else { return *op == Op::Ne };
            compare(have, *op, want)
        }
        Filter::ValuePath(..) => false,
    }
}

/// A sub-attribute of `item` (or, for `value`, a plain value itself).
fn field<'a>(item: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    match item {
        Value::Object(o) => o.iter().find(|(k, _)| k.eq_ignore_ascii_case(&path.name)).map(|(_, v)| v),
        v if path.name == "value" => Some(v),
        _ => None,
    }
}

fn compare(have: &Value, op: Op, want: &Value) -> bool {
    match (have, want) {
        (Value::String(h), Value::String(w)) => {
            let (h, w) = (h.to_lowercase(), w.to_lowercase());
            match op {
                Op::Eq => h == w,
                Op::Ne => h != w,
                Op::Co => h.contains(&w),
                Op::Sw => h.starts_with(&w),
                Op::Ew => h.ends_with(&w),
                Op::Gt => h > w,
                Op::Ge => h >= w,
                Op::Lt => h < w,
                Op::Le => h <= w,
            }
        }
        (Value::Bool(h), Value::Bool(w)) => match op {
            Op::Eq => h == w,
            Op::Ne => h != w,
            _ => false,
        },
        (Value::Number(h), Value::Number(w)) => {
            let (h, w) = (h.as_f64().unwrap_or(f64::NAN), w.as_f64().unwrap_or(f64::NAN));
            match op {
                Op::Eq => h == w,
                Op::Ne => h != w,
                Op::Gt => h > w,
                Op::Ge => h >= w,
                Op::Lt => h < w,
                Op::Le => h <= w,
                _ => false,
            }
        }
        (h, Value::Null) => match op {
            Op::Eq => h.is_null(),
            Op::Ne => !h.is_null(),
            _ => false,
        },
        _ => op == Op::Ne,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn patch(ops: Value) -> Value {
        json!({"schemas": [super::super::discovery::PATCH_OP], "Operations": ops})
    }

    fn user() -> Value {
        json!({"schemas": [USER], "id": "u1", "userName": "ada@example.test", "active": true,
               "name": {"givenName": "Ada", "familyName": "Test"},
               "emails": [{"value": "ada@example.test", "type": "work"}],
               "roles": [{"value": "member"}]})
    }

    #[test]
    fn entra_sends_capitalised_ops_and_string_booleans() {
        let out = apply(user(), &patch(json!([{"op": "Replace", "path": "active", "value": "False"}])), USER).unwrap();
        assert_eq!(out["active"], "False", "the string is read as a boolean by the resource's reader");
        let out = apply(user(), &patch(json!([{"op": "Replace", "path": "name.familyName", "value": "Lovelace"}])), USER).unwrap();
        assert_eq!(out["name"], json!({"givenName": "Ada", "familyName": "Lovelace"}));
    }

    #[test]
    fn okta_sends_a_pathless_replace_with_an_object() {
        let out = apply(user(), &patch(json!([{"op": "replace", "value": {"active": false, "name.givenName": "Augusta"}}])), USER).unwrap();
        assert_eq!(out["active"], false);
        assert_eq!(out["name"]["givenName"], "Augusta");
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let out = apply(user(), &patch(json!([{"op": "add", "value": {ext: {"department": "Sales"}}}])), USER).unwrap();
        assert_eq!(out[ext]["department"], "Sales");
    }

    #[test]
    fn a_value_path_that_matches_nothing_adds_a_value_and_remove_takes_values_out() {
        let out = apply(user(), &patch(json!([{"op": "Add", "path": "emails[type eq \"home\"].value", "value": "ada@home.test"}])), USER).unwrap();
        assert_eq!(out["emails"], json!([{"value": "ada@example.test", "type": "work"}, {"type": "home", "value": "ada@home.test"}]));
        let out = apply(user(), &patch(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@b.test"}])), USER).unwrap();
        assert_eq!(out["emails"], json!([{"value": "a@b.test", "type": "work"}]));
        let out = apply(user(), &patch(json!([{"op": "add", "path": "roles", "value": [{"value": "support"}]}])), USER).unwrap();
        assert_eq!(out["roles"], json!([{"value": "member"}, {"value": "support"}]));
        let out = apply(out, &patch(json!([{"op": "Remove", "path": "roles", "value": [{"value": "member"}]}])), USER).unwrap();
        assert_eq!(out["roles"], json!([{"value": "support"}]));
        let out = apply(out, &patch(json!([{"op": "remove", "path": "roles[value eq \"support\"]"}])), USER).unwrap();
        assert_eq!(out["roles"], json!([]));
        let out = apply(user(), &patch(json!([{"op": "remove", "path": "name.givenName"}])), USER).unwrap();
        assert_eq!(out["name"], json!({"familyName": "Test"}));
    }

    #[test]
    fn malformed_patches_are_refused_with_the_operation_named() {
        let e = apply(user(), &json!({"Operations": []}), USER).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
        let e = apply(user(), &patch(json!([])), USER).unwrap_err();
        assert!(e.detail.contains("empty"), "{}", e.detail);
        let e = apply(user(), &patch(json!([{"op": "add", "path": "active", "value": true}, {"op": "move", "path": "x"}])), USER).unwrap_err();
        assert!(e.detail.starts_with("Operation 2:") && e.detail.contains("move"), "{}", e.detail);
        let e = apply(user(), &patch(json!([{"op": "remove"}])), USER).unwrap_err();
        assert_eq!(e.scim_type, Some("noTarget"));
        let e = apply(user(), &patch(json!([{"op": "replace", "path": "emails[type eq", "value": 1}])), USER).unwrap_err();
        assert_eq!(e.scim_type, Some("invalidPath"));
        let many: Vec<Value> = (0..=MAX_OPERATIONS).map(|_| json!({"op": "add", "path": "active", "value": true})).collect();
        assert_eq!(apply(user(), &patch(Value::Array(many)), USER).unwrap_err().scim_type, Some("tooMany"));
    }
}
