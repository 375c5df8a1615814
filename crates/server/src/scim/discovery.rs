//! What the service provider says about itself (RFC 7643 §5–7, RFC 7644 §4):
//! ServiceProviderConfig, ResourceTypes and Schemas. They describe exactly what is stored
//! and round-trips — no attribute is published that the server would drop — because a
//! client (and the conformance checkers) take them at their word.

use serde_json::{Value, json};

/// The core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The ServiceProviderConfig schema.
pub const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The ResourceType schema.
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The Schema schema.
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// Gatehouse's Group extension: whether a group is a department or a company.
pub const GATEHOUSE_GROUP: &str = "urn:gatehouse:params:scim:schemas:extension:2.0:Group";
/// The list answer's message schema.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The PATCH request's message schema.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The most resources one list page holds (`count` above it is lowered to it).
pub const MAX_PAGE: u32 = 200;
/// A page's size when `count` is not given.
pub const DEFAULT_PAGE: u32 = 100;

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://github.com/gatehouse-dev/gatehouse#provisioning-with-scim",
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_PAGE},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "API key",
            "description": "A Gatehouse API key of a user holding the SCIM provisioning role, sent as `Authorization: Bearer gh_…`.",
            "primary": true
        }],
        "pagination": {
            // Cursor paging (RFC 9865) is not served yet: index paging only.
            "cursor": false,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_PAGE,
            "maxPageSize": MAX_PAGE
        },
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

/// `GET /ResourceTypes`' resources.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "A person of the organization",
            "schema": USER,
            "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
        }),
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "A department or company of the organization",
            "schema": GROUP,
            // Every group has a kind (department when a provider leaves it out).
            "schemaExtensions": [{"schema": GATEHOUSE_GROUP, "required": true}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")}
        }),
    ]
}

/// One attribute definition.
struct Attr {
    name: &'static str,
    kind: &'static str,
    multi: bool,
    required: bool,
    mutability: &'static str,
    returned: &'static str,
    uniqueness: &'static str,
    case_exact: bool,
    description: &'static str,
    canonical: Vec<String>,
    subs: Vec<Attr>,
    reference_types: Vec<&'static str>,
}

fn attr(name: &'static str, kind: &'static str, description: &'static str) -> Attr {
    Attr {
        name,
        kind,
        multi: false,
        required: false,
        mutability: "readWrite",
        returned: "default",
        uniqueness: "none",
        case_exact: false,
        description,
        canonical: Vec::new(),
        subs: Vec::new(),
        reference_types: Vec::new(),
    }
}

impl Attr {
    fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn read_only(mut self) -> Self {
        self.mutability = "readOnly";
        self
    }
    fn unique(mut self) -> Self {
        self.uniqueness = "server";
        self
    }
    fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    fn canonical(mut self, values: Vec<String>) -> Self {
        self.canonical = values;
        self
    }
    fn subs(mut self, subs: Vec<Attr>) -> Self {
        self.subs = subs;
        self
    }
    fn refs(mut self, types: Vec<&'static str>) -> Self {
        self.reference_types = types;
        self
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.kind,
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        });
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        if !self.subs.is_empty() {
            v["subAttributes"] = Value::Array(self.subs.iter().map(Attr::json).collect());
        }
        if self.kind == "reference" {
            v["referenceTypes"] = json!(self.reference_types);
        }
        v
    }
}

fn schema(base: &str, id: &str, name: &str, description: &str, attributes: Vec<Attr>) -> Value {
    json!({
        "schemas": [SCHEMA],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes.iter().map(Attr::json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    })
}

/// `GET /Schemas`' resources. `roles` are the keys of the roles a provisioning key may
/// give (the User schema's `roles.value` canonical values).
pub fn schemas(base: &str, roles: Vec<String>) -> Vec<Value> {
    let user = vec![
        attr("userName", "string", "The person's e-mail address, with which they sign in; unique across the server.").required().unique(),
        attr("name", "complex", "The person's name.")
            .subs(vec![attr("givenName", "string", "First name."), attr("familyName", "string", "Last name.")]),
        attr("displayName", "string", "How the directory shows the person."),
        attr("active", "boolean", "Whether the person may sign in; false deactivates them (sessions end, keys are suspended, the seat is freed). A person always has a status: when left out on creation it is true.")
            .required(),
        attr("emails", "complex", "The person's e-mail address, with which they sign in (one: the work address when several are given).")
            .multi()
            .required()
            .subs(vec![attr("value", "string", "The address.").required(), attr("type", "string", "Always \"work\".").canonical(vec!["work".into()])]),
        attr("roles", "complex", "The person's Gatehouse roles, by key.")
            .multi()
            .subs(vec![attr("value", "string", "A role key of the organization.").exact().canonical(roles)]),
        attr("groups", "complex", "The departments and companies the person belongs to (change them through the Group).").multi().read_only().subs(
            vec![
                attr("value", "string", "The group's id.").read_only().exact(),
                attr("$ref", "reference", "The group's URI.").read_only().exact().refs(vec!["Group"]),
                attr("display", "string", "The group's name.").read_only(),
            ],
        ),
    ];
    let enterprise = vec![
        attr("department", "string", "The person's department, by name (created when it does not exist yet)."),
        attr("organization", "string", "The person's company, by name (created when it does not exist yet)."),
    ];
    let group = vec![
        attr("displayName", "string", "The group's name, unique among groups of its kind.").required(),
        attr("members", "complex", "The people in the group.").multi().subs(vec![
            attr("value", "string", "The person's id.").exact(),
            attr("$ref", "reference", "The person's URI.").exact().refs(vec!["User"]),
            attr("type", "string", "Always \"User\".").canonical(vec!["User".into()]),
        ]),
    ];
    let group_kind = vec![
        attr("kind", "string", "department or company (department when left out on creation).")
            .canonical(vec!["department".into(), "company".into()])
            .required(),
    ];
    let meta = |name: &'static str, kind: &'static str, description: &'static str| attr(name, kind, description).read_only();
    vec![
        schema(base, USER, "User", "A person of the organization", user),
        schema(base, GROUP, "Group", "A department or company (members are people)", group),
        schema(base, ENTERPRISE, "EnterpriseUser", "The enterprise extension's attributes that map onto the person's groups", enterprise),
        schema(base, GATEHOUSE_GROUP, "GatehouseGroup", "What kind of group a group is", group_kind),
        schema(
            base,
            SERVICE_PROVIDER_CONFIG,
            "ServiceProviderConfig",
            "The service provider's configuration",
            vec![
                meta("documentationUri", "reference", "Where the service is documented.").refs(vec!["external"]),
                meta("patch", "complex", "PATCH support.").subs(vec![meta("supported", "boolean", "Whether PATCH is supported.").required()]),
                meta("bulk", "complex", "Bulk support.").subs(vec![
                    meta("supported", "boolean", "Whether bulk is supported.").required(),
                    meta("maxOperations", "integer", "The most operations in one request.").required(),
                    meta("maxPayloadSize", "integer", "The largest request, in bytes.").required(),
                ]),
                meta("filter", "complex", "Filter support.").subs(vec![
                    meta("supported", "boolean", "Whether filters are supported.").required(),
                    meta("maxResults", "integer", "The most resources one answer holds.").required(),
                ]),
                meta("changePassword", "complex", "Password change support.")
                    .subs(vec![meta("supported", "boolean", "Whether it is supported.").required()]),
                meta("sort", "complex", "Sort support.").subs(vec![meta("supported", "boolean", "Whether sorting is supported.").required()]),
                meta("etag", "complex", "ETag support.").subs(vec![meta("supported", "boolean", "Whether ETags are supported.").required()]),
                meta("authenticationSchemes", "complex", "How to authenticate.").multi().subs(vec![
                    meta("type", "string", "The scheme's type.").required(),
                    meta("name", "string", "The scheme's name.").required(),
                    meta("description", "string", "What it is.").required(),
                    meta("specUri", "reference", "Its specification.").refs(vec!["external"]),
                    meta("documentationUri", "reference", "Its documentation.").refs(vec!["external"]),
                    meta("primary", "boolean", "Whether it is the main one."),
                ]),
                meta("pagination", "complex", "Paging support (RFC 9865).").subs(vec![
                    meta("cursor", "boolean", "Whether cursor paging is supported."),
                    meta("index", "boolean", "Whether index paging is supported."),
                    meta("defaultPaginationMethod", "string", "cursor or index."),
                    meta("defaultPageSize", "integer", "A page's size by default."),
                    meta("maxPageSize", "integer", "The largest page."),
                    meta("cursorTimeout", "integer", "Seconds a cursor stays valid."),
                ]),
            ],
        ),
        schema(
            base,
            RESOURCE_TYPE,
            "ResourceType",
            "A type of resource",
            vec![
                meta("id", "string", "The type's id."),
                meta("name", "string", "The type's name.").required(),
                meta("description", "string", "What it is."),
                meta("endpoint", "reference", "Its endpoint, relative to the base URL.").required().refs(vec!["uri"]),
                meta("schema", "reference", "Its core schema.").required().exact().refs(vec!["uri"]),
                meta("schemaExtensions", "complex", "Its extensions.").multi().subs(vec![
                    meta("schema", "reference", "An extension schema.").required().exact().refs(vec!["uri"]),
                    meta("required", "boolean", "Whether resources must carry it.").required(),
                ]),
            ],
        ),
        schema(
            base,
            SCHEMA,
            "Schema",
            "A schema's definition",
            vec![
                meta("id", "reference", "The schema's URI.").required().refs(vec!["uri"]),
                meta("name", "string", "The schema's name."),
                meta("description", "string", "What it describes."),
                meta("attributes", "complex", "Its attributes.").multi().required().subs(vec![
                    meta("name", "string", "The attribute's name.").required(),
                    meta("type", "string", "Its type.").required(),
                    meta("multiValued", "boolean", "Whether it holds several values.").required(),
                    meta("description", "string", "What it holds."),
                    meta("required", "boolean", "Whether it must be given."),
                    meta("canonicalValues", "string", "The values it may take.").multi(),
                    meta("caseExact", "boolean", "Whether case matters."),
                    meta("mutability", "string", "Who may change it."),
                    meta("returned", "string", "When it is returned."),
                    meta("uniqueness", "string", "How unique it is."),
                    meta("referenceTypes", "string", "What it may refer to.").multi(),
                    meta("subAttributes", "complex", "Its sub-attributes (the same fields).").multi(),
                ]),
            ],
        ),
    ]
}

/// A ListResponse of all of `resources` (discovery lists are not paged).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_a_resource_type_names_is_published_and_core_schemas_come_first() {
        let schemas = schemas("http://h/scim/v2", vec!["member".into()]);
        let ids: Vec<&str> = schemas.iter().map(|s| s["id"].as_str().unwrap()).collect();
        for rt in resource_types("http://h/scim/v2") {
            assert!(ids.contains(&rt["schema"].as_str().unwrap()), "{rt}");
            for ext in rt["schemaExtensions"].as_array().into_iter().flatten() {
                assert!(ids.contains(&ext["schema"].as_str().unwrap()), "{ext}");
            }
        }
        for name in ["ResourceType", "ServiceProviderConfig", "Schema"] {
            assert!(schemas.iter().any(|s| s["name"] == name), "{name} is published");
        }
        // No two attributes of one schema differ only by case; every attribute has the
        // fields a strict client requires.
        for s in &schemas {
            let mut seen = std::collections::HashSet::new();
            for a in s["attributes"].as_array().unwrap() {
                assert!(seen.insert(a["name"].as_str().unwrap().to_ascii_lowercase()), "{}: {a}", s["id"]);
                for key in ["type", "multiValued", "mutability", "returned", "uniqueness"] {
                    assert!(a.get(key).is_some(), "{}: {a} lacks {key}", s["id"]);
                }
            }
        }
        let user = &schemas[0];
        let roles = user["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "roles").unwrap();
        assert_eq!(roles["subAttributes"][0]["canonicalValues"], json!(["member"]));
    }

    #[test]
    fn the_config_promises_what_is_served() {
        let c = service_provider_config("http://h/scim/v2");
        assert_eq!(c["patch"]["supported"], true);
        assert_eq!(c["bulk"]["supported"], false);
        assert_eq!(c["filter"]["maxResults"], MAX_PAGE);
        assert_eq!(c["pagination"]["maxPageSize"], MAX_PAGE);
        assert_eq!(c["meta"]["location"], "http://h/scim/v2/ServiceProviderConfig");
    }
}
