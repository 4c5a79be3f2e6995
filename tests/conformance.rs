//! The storage ports' conformance suite on SQLite with the real migrations (D1 runs the same
//! suite under workerd: tests/e2e/conformance.test.mjs).

mod common;

use common::{new_store, Seed};
use edge_issuer::port::conformance::{run, Fixture};

#[test]
fn the_sql_stores_keep_every_port_contract_on_sqlite() {
    let store = new_store();
    store.put_client(common::client_defaults_with("c"));
    store.put_user(edge_issuer::model::User {
        user_id: "u".into(),
        connection: "Username-Password-Authentication".into(),
        email: Some("U@Example.com".into()),
        ..Default::default()
    });
    store.put_api(edge_issuer::model::Api {
        identifier: "https://api.example.com".into(),
        name: "API".into(),
        scopes: vec!["read:a".into(), "read:b".into()],
        token_lifetime: 60,
        rbac_enabled: true,
        token_permissions: false,
        user_grantable_scopes: vec![],
        signing_alg: "ES256".into(),
    });
    let fx = Fixture {
        client_id: "c".into(),
        user_id: "u".into(),
        run_id: "native".into(),
        now: 1_800_000_000,
        audience: "https://api.example.com".into(),
    };
    let outcomes = pollster::block_on(run(&store, &store, &fx));
    assert_eq!(outcomes.len(), 30);
    for o in outcomes {
        assert_eq!(o.failure, None, "{}", o.case);
    }
}
