//! GraphiQL and code generators load the schema with the default limits, while ordinary
//! queries stay within `graphql.max_depth` and hostile introspection within
//! `graphql.max_introspection_depth`.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::api::TestApp;

/// Options of graphql-js's `getIntrospectionQuery` that async-graphql can answer.
#[allow(clippy::struct_excessive_bools)] // graphql-js's options are these booleans
#[derive(Debug, Clone, Copy, Default)]
struct Options {
    descriptions: bool,
    specified_by_url: bool,
    directive_is_repeatable: bool,
    schema_description: bool,
    input_value_deprecation: bool,
    one_of: bool,
}

impl Options {
    /// graphql-js's defaults: descriptions on, everything else off.
    fn graphql_js_defaults() -> Self {
        Self {
            descriptions: true,
            ..Self::default()
        }
    }

    /// Every combination of the options GraphiQL and graphql-core pass.
    fn all_combinations() -> impl Iterator<Item = Self> {
        (0..64u8).map(|bits| Self {
            descriptions: bits & 1 != 0,
            specified_by_url: bits & 2 != 0,
            directive_is_repeatable: bits & 4 != 0,
            schema_description: bits & 8 != 0,
            input_value_deprecation: bits & 16 != 0,
            one_of: bits & 32 != 0,
        })
    }

    fn fill(self, template: &str) -> String {
        let on = |flag: bool, text: &'static str| if flag { text } else { "" };
        template
            .replace(
                "${schemaDescription}",
                on(self.schema_description && self.descriptions, "description"),
            )
            .replace("${descriptions}", on(self.descriptions, "description"))
            .replace(
                "${specifiedByUrl}",
                on(self.specified_by_url, "specifiedByURL"),
            )
            .replace(
                "${directiveIsRepeatable}",
                on(self.directive_is_repeatable, "isRepeatable"),
            )
            .replace("${oneOf}", on(self.one_of, "isOneOf"))
            .replace(
                "${inputDeprecationArgs}",
                on(self.input_value_deprecation, "(includeDeprecated: true)"),
            )
            .replace(
                "${inputDeprecationIsDeprecated}",
                on(self.input_value_deprecation, "isDeprecated"),
            )
            .replace(
                "${inputDeprecationReason}",
                on(self.input_value_deprecation, "deprecationReason"),
            )
    }
}

/// The fragments both graphql-js 16 and 17 send, with 17's `TypeRef` left open.
const FRAGMENTS: &str = r"
    fragment FullType on __Type {
      kind
      name
      ${descriptions}
      ${specifiedByUrl}
      ${oneOf}
      fields(includeDeprecated: true) {
        name
        ${descriptions}
        args${inputDeprecationArgs} {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields${inputDeprecationArgs} {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        ${descriptions}
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      ${descriptions}
      type { ...TypeRef }
      defaultValue
      ${inputDeprecationIsDeprecated}
      ${inputDeprecationReason}
    }
";

/// `getIntrospectionQuery(options)` of graphql-js 16.9, character for character (GraphiQL
/// 3 and graphql-core send the same document).
fn graphql_js_16(options: Options) -> String {
    let operation = r"
    query IntrospectionQuery {
      __schema {
        ${schemaDescription}
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types {
          ...FullType
        }
        directives {
          name
          ${descriptions}
          ${directiveIsRepeatable}
          locations
          args${inputDeprecationArgs} {
            ...InputValue
          }
        }
      }
    }
";
    let type_ref = r"
    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                    ofType {
                      kind
                      name
                      ofType {
                        kind
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  ";
    options.fill(&format!("{operation}{FRAGMENTS}{type_ref}"))
}

/// `getIntrospectionQuery({...options, typeDepth})` of graphql-js 17, whose `TypeRef`
/// nests `ofType` `type_depth` times (9 by default, up to 100).
fn graphql_js_17(options: Options, type_depth: usize) -> String {
    let operation = r"
    query IntrospectionQuery {
      __schema {
        ${schemaDescription}
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          ${descriptions}
          ${directiveIsRepeatable}
          
          
          locations
          args${inputDeprecationArgs} {
            ...InputValue
          }
        }
      }
      
    }
";
    let mut of_type = String::new();
    for level in (0..type_depth).rev() {
        let indent = " ".repeat(6 + 2 * level);
        of_type =
            format!("\n{indent}ofType {{\n{indent}  name\n{indent}  kind{of_type}\n{indent}}}");
    }
    let type_ref =
        format!("\n    fragment TypeRef on __Type {{\n      kind\n      name{of_type}\n    }}\n  ");
    options.fill(&format!("{operation}{FRAGMENTS}{type_ref}"))
}

/// Posts as GraphiQL does: no token, the operation named.
async fn introspect(app: &TestApp, query: &str) -> Value {
    let response = app
        .http
        .post(app.url())
        .json(&json!({"query": query, "operationName": "IntrospectionQuery", "variables": {}}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

fn assert_schema_loaded(body: &Value, what: &str) {
    assert!(body.get("errors").is_none(), "{what}: {body}");
    let types = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no types in {body}"));
    assert!(
        types.iter().any(|t| t["name"] == "Appeal"),
        "{what}: the schema lacks Appeal"
    );
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "QueryRoot");
}

fn refusal(body: &Value) -> (String, String) {
    assert!(body["data"].is_null(), "nothing runs: {body}");
    (
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn graphql_js_introspection_loads_the_schema_under_the_default_limits() {
    let test = redress_engine::testing::TestDb::sqlite().await;
    let app = TestApp::start(&test).await;
    assert_eq!(app.config.graphql.max_depth, 12, "the default limits apply");

    let exact = graphql_js_16(Options::graphql_js_defaults());
    assert!(exact.starts_with("\n    query IntrospectionQuery {\n      __schema {\n        \n"));
    assert_eq!(exact.matches("ofType").count(), 9);
    assert_schema_loaded(&introspect(&app, &exact).await, "graphql-js 16 defaults");
    for options in Options::all_combinations() {
        let body = introspect(&app, &graphql_js_16(options)).await;
        assert_schema_loaded(&body, &format!("graphql-js 16 {options:?}"));
    }
    for options in [Options::graphql_js_defaults(), Options::default()] {
        let body = introspect(&app, &graphql_js_17(options, 9)).await;
        assert_schema_loaded(&body, &format!("graphql-js 17 {options:?}"));
    }
    // A wrapped type resolves through ofType: `appeal(id: ID!)` takes a NON_NULL of ID.
    let body = introspect(&app, &exact).await;
    let query_root = body["data"]["__schema"]["types"]
        .as_array()
        .and_then(|types| types.iter().find(|t| t["name"] == "QueryRoot"))
        .expect("QueryRoot")
        .clone();
    let appeal = query_root["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["name"] == "appeal"))
        .expect("appeal field");
    assert_eq!(appeal["args"][0]["type"]["kind"], "NON_NULL");
    assert_eq!(appeal["args"][0]["type"]["ofType"]["name"], "ID");
    app.stop().await;
    test.cleanup().await;
}

#[tokio::test]
async fn deep_queries_stay_refused_introspection_or_not() {
    let test = redress_engine::testing::TestDb::sqlite().await;
    let app = TestApp::start(&test).await;
    let admin = app.token("ada", &[redress_core::Role::Admin]);

    // graphql-js lets a client ask for up to 100 levels of ofType.
    let (code, message) =
        refusal(&introspect(&app, &graphql_js_17(Options::graphql_js_defaults(), 100)).await);
    assert_eq!(code, "BAD_USER_INPUT", "{message}");

    // The introspection limit itself: depth 20 passes, 21 does not.
    let nested = |levels: usize| {
        format!(
            "query IntrospectionQuery {{ __type(name: \"Appeal\") {{ {} name {} }} }}",
            "ofType { ".repeat(levels),
            "}".repeat(levels)
        )
    };
    assert!(introspect(&app, &nested(18)).await.get("errors").is_none());
    let (code, message) = refusal(&introspect(&app, &nested(19)).await);
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(
        message.contains("nested too deep: 21 levels, at most 20"),
        "{message}"
    );
    let (_, message) =
        refusal(&introspect(&app, &graphql_js_17(Options::graphql_js_defaults(), 15)).await);
    assert!(message.contains("an introspection query"), "{message}");

    // Ordinary queries keep max_depth (13 levels here), also when they carry introspection.
    let deep = "{ appeals { edges { node { account { appeals { account { appeals { account { appeals { account { appeals { account { id } } } } } } } } } } } } }";
    let (status, body) = app.post(Some(&admin), deep, json!({})).await;
    assert_eq!(status, 200);
    let (code, message) = refusal(&body);
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(
        message.contains("at most 12 are allowed in a query"),
        "{message}"
    );
    let mixed = format!(
        "{{ me {{ subject }} __type(name: \"Appeal\") {{ {} name {} }} }}",
        "ofType { ".repeat(12),
        "}".repeat(12)
    );
    let (_, body) = app.post(Some(&admin), &mixed, json!({})).await;
    let (_, message) = refusal(&body);
    assert!(
        message.contains("at most 12 are allowed in a query"),
        "{mixed}: {message}"
    );

    // Width is bounded by max_complexity in introspection too.
    let wide = (0..600).fold(String::new(), |mut wide, n| {
        let _ = write!(wide, "t{n}: __type(name: \"Appeal\") {{ name kind }} ");
        wide
    });
    let (code, message) =
        refusal(&introspect(&app, &format!("query IntrospectionQuery {{ {wide} }}")).await);
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("too complex"), "{message}");
    app.stop().await;
    test.cleanup().await;
}
