//! Connections: made as keys, their URI, what each access may do, revocation.

use super::*;
use crate::config::SecretsBackend;
use crate::keys::Permission;
use crate::store::test_support::temp_store;

async fn setup() -> (tempfile::TempDir, Store, Keys, SecretStore, NwcState) {
    let (dir, store) = temp_store().await;
    let secrets = SecretStore::open(SecretsBackend::File, dir.path(), "t")
        .await
        .expect("secrets");
    let keys = Keys::new(
        store.clone(),
        secrets.clone(),
        dir.path().join("keys.changed"),
    );
    (dir, store, keys, secrets, NwcState::default())
}

fn new(access: Access, budget: Option<u64>) -> NewConnection {
    NewConnection {
        name: "Web shop".into(),
        access,
        budget,
        expires_at: None,
        relays: vec![
            "ws://127.0.0.1:7447".into(),
            "wss://relay.example.com/v1".into(),
        ],
    }
}

#[tokio::test]
async fn a_connection_is_a_key_with_a_uri_and_limits() -> Result<()> {
    let (_dir, store, keys, secrets, state) = setup().await;
    let nwc = Nwc::new(&store, &keys, &secrets, &state);
    let (admin, _) = keys.admin_key().await?;
    let admin = keys.authenticate(&admin).await?.expect("admin");

    let made = nwc.create(new(Access::Receive, None), &admin).await?;
    let c = &made.connection;
    assert_eq!(c.access, Access::Receive);
    assert_eq!(
        c.key.permissions,
        [Permission::LightningReceive].into_iter().collect()
    );
    assert!(!c.methods.contains(&"pay_invoice"));
    assert!(made.uri.starts_with(&format!(
        "nostr+walletconnect://{}?relay=ws%3A%2F%2F127.0.0.1%3A7447&relay=wss%3A%2F%2F",
        c.wallet_pubkey
    )));
    // The secret in the URI is the app's: its public key is the one the connection answers.
    let secret = made.uri.split("secret=").nth(1).expect("secret");
    let client = NostrKeys::parse(secret).expect("secret key");
    assert_eq!(client.public_key().to_hex(), c.client_pubkey);
    assert_eq!(nwc.reveal(&c.key.id).await?, made.uri);
    assert_eq!(nwc.serving().await?.len(), 1);

    // Paying needs a budget; a budget needs paying.
    let err = nwc.create(new(Access::Pay, None), &admin).await.err();
    assert_eq!(err.map(|e| e.field()), Some(Some("budget")));
    let err = nwc.create(new(Access::Read, Some(10)), &admin).await.err();
    assert_eq!(err.map(|e| e.field()), Some(Some("budget")));
    let mut bad = new(Access::Receive, None);
    bad.relays = vec!["https://relay.example.com".into()];
    let err = nwc.create(bad, &admin).await.err();
    assert_eq!(err.map(|e| e.field()), Some(Some("relays")));

    let pay = nwc.create(new(Access::Pay, Some(5_000)), &admin).await?;
    assert_eq!(pay.connection.key.budget, Some(5_000));
    assert!(pay.connection.methods.contains(&"multi_pay_invoice"));

    // A key may not hand out more than it holds.
    let small = keys
        .create(NewKey {
            name: "pos".into(),
            permissions: [Permission::LightningReceive, Permission::KeysManage].into(),
            budget: None,
            expires_at_ms: None,
        })
        .await?
        .key;
    let err = nwc.create(new(Access::Pay, Some(10)), &small).await.err();
    assert_eq!(err.map(|e| e.code().as_str()), Some("key_scope_exceeded"));

    // Revoked: no longer live, its key refused, its URI gone.
    let revoked = nwc.revoke(&c.key.id).await?;
    assert!(revoked.key.revoked_at.is_some());
    let serving = nwc.serving().await?;
    assert_eq!(
        serving.len(),
        2,
        "a revoked one is still answered, with a refusal"
    );
    assert_eq!(serving.iter().filter(|c| c.live).count(), 1);
    assert!(nwc.reveal(&c.key.id).await.is_err());
    assert_eq!(
        secrets.get(&uri_secret_name(&c.key.id)).await?,
        None,
        "the app's secret is forgotten"
    );
    // Without relays, the last connection's first relay is offered.
    let mut plain = new(Access::Receive, None);
    plain.relays.clear();
    let again = nwc.create(plain, &admin).await?;
    assert_eq!(
        again.connection.relays,
        vec!["ws://127.0.0.1:7447".to_string()]
    );
    Ok(())
}

#[tokio::test]
async fn each_request_is_worked_on_once_and_its_answer_kept_until_sent() -> Result<()> {
    let (_dir, store, keys, secrets, state) = setup().await;
    let nwc = Nwc::new(&store, &keys, &secrets, &state);
    let log = nwc.requests();
    assert!(log.begin("e1", "k", "get_info", "{}").await?);
    assert!(!log.begin("e1", "k", "get_info", "{}").await?, "a replay");
    assert_eq!(log.unanswered().await?.len(), 1);
    log.answer("e1", "k", &["{\"a\":1}".into()]).await?;
    assert!(log.unanswered().await?.is_empty());
    let owed = log.owed(10).await?;
    assert_eq!(owed.len(), 1);
    log.failed(owed[0].seq, 0, "relay down").await?;
    assert_eq!(log.owed_count().await?, 1);
    assert!(log.owed(10).await?.is_empty(), "not due again for a second");
    log.sent(owed[0].seq).await?;
    assert_eq!(log.owed_count().await?, 0);
    log.notify(42, &[("k".into(), "{}".into())]).await?;
    assert_eq!(log.notified().await?, Some(42));
    assert_eq!(log.owed_count().await?, 1);
    Ok(())
}

/// A request encrypted by an app (NIP-44, and NIP-04 for an old one) opens with the
/// connection's key; the answer opens with the app's.
#[test]
fn requests_open_and_answers_seal() {
    use nostr_sdk::nips::{nip04, nip44};
    use nostr_sdk::prelude::{EventBuilder, JsonUtil, Kind, Tag, TagKind};
    let wallet = NostrKeys::generate();
    let app = NostrKeys::generate();
    let body = r#"{"method":"make_invoice","params":{"amount":21000}}"#;
    let sealed = nip44::encrypt(
        app.secret_key(),
        &wallet.public_key(),
        body,
        nip44::Version::default(),
    )
    .expect("encrypt");
    let event = EventBuilder::new(Kind::WalletConnectRequest, sealed)
        .tags([
            Tag::public_key(wallet.public_key()),
            Tag::custom(TagKind::custom("encryption"), ["nip44_v2"]),
        ])
        .sign_with_keys(&app)
        .expect("sign");
    let request = wire::open_request(&event, &wallet).expect("opens");
    assert_eq!(request.method, "make_invoice");
    assert_eq!(request.encryption, wire::Encryption::Nip44);
    assert_eq!(request.params["amount"], 21000);

    let old = EventBuilder::new(
        Kind::WalletConnectRequest,
        nip04::encrypt(app.secret_key(), &wallet.public_key(), body).expect("encrypt"),
    )
    .tag(Tag::public_key(wallet.public_key()))
    .sign_with_keys(&app)
    .expect("sign");
    assert_eq!(
        wire::open_request(&old, &wallet).expect("opens").encryption,
        wire::Encryption::Nip04,
        "no encryption tag: NIP-04"
    );

    let odd = EventBuilder::new(Kind::WalletConnectRequest, "x")
        .tag(Tag::custom(TagKind::custom("encryption"), ["rot13"]))
        .sign_with_keys(&app)
        .expect("sign");
    let (_, err) = wire::open_request(&odd, &wallet).expect_err("refused");
    assert_eq!(err.code, wire::Code::UnsupportedEncryption);
    let garbage = EventBuilder::new(Kind::WalletConnectRequest, "not encrypted")
        .tag(Tag::custom(TagKind::custom("encryption"), ["nip44_v2"]))
        .sign_with_keys(&app)
        .expect("sign");
    let (_, err) = wire::open_request(&garbage, &wallet).expect_err("refused");
    assert_eq!(err.code, wire::Code::Other);

    let content = wire::response_content("get_balance", &Ok(serde_json::json!({"balance": 5})));
    let answer = wire::response_event(
        &wallet,
        &app.public_key(),
        &event.id,
        wire::Encryption::Nip44,
        &content,
        None,
    )
    .expect("answer");
    let answer: nostr_sdk::prelude::Event =
        nostr_sdk::prelude::Event::from_json(answer).expect("event");
    assert!(answer.verify().is_ok());
    let plain =
        nip44::decrypt(app.secret_key(), &wallet.public_key(), &answer.content).expect("decrypt");
    assert_eq!(
        plain,
        r#"{"result":{"balance":5},"result_type":"get_balance"}"#
    );
}
