//! `schema.graphql` at the repository root is the SDL of the code. Regenerate it with
//! `redress export-schema` after changing the schema.

#[test]
fn schema_graphql_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema.graphql");
    let checked_in =
        std::fs::read_to_string(&path).expect("schema.graphql exists at the repository root");
    let generated = redress_graphql::sdl();
    assert!(
        checked_in == generated,
        "schema.graphql is out of date: run `cargo run -- export-schema`"
    );
}
