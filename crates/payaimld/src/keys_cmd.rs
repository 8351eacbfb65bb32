//! `payaimld keys create|list|revoke`.

use payaiml_core::keys::{parse_permissions, NewKey};
use payaiml_core::App;

use crate::cli::{parse_duration, Cli, KeysCommand};

pub async fn run(cli: &Cli, command: &KeysCommand) -> anyhow::Result<()> {
    let keys = App::open_keys(&cli.config()?).await?;
    match command {
        KeysCommand::Create {
            name,
            permissions,
            budget,
            expires_in,
        } => {
            let permissions = parse_permissions(permissions.iter().map(String::as_str))?;
            let expires_at_ms = match expires_in {
                Some(text) => {
                    Some(payaiml_core::util::now_ms() + parse_duration(text)?.as_millis() as i64)
                }
                None => None,
            };
            let created = keys
                .create(NewKey {
                    name: name.clone(),
                    permissions,
                    budget: *budget,
                    expires_at_ms,
                })
                .await?;
            let k = &created.key;
            println!("created key {} ({})", k.id, k.name);
            println!("permissions: {}", perms(k));
            if let Some(b) = k.budget {
                println!("daily budget: {b} sat");
            }
            if let Some(e) = &k.expires_at {
                println!("expires: {e}");
            }
            println!("the secret below is shown once (it is also kept in the secret store):");
            println!("{}", created.secret);
        }
        KeysCommand::List => {
            for k in keys.list().await? {
                let state = match (&k.revoked_at, &k.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(at)) => format!("expires {at}"),
                    (None, None) => "active".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\tlast used {}",
                    k.id,
                    k.name,
                    perms(&k),
                    state,
                    k.last_used_at.as_deref().unwrap_or("never")
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let k = keys.revoke(id).await?;
            println!("revoked key {} ({})", k.id, k.name);
        }
    }
    Ok(())
}

fn perms(k: &payaiml_core::keys::ApiKey) -> String {
    k.permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
