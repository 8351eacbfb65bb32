//! `export` and `import`: moving a wallet to another computer (see [`payaiml_core::moving`]).

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::Context;
use payaiml_api::cli::FrontDoor;
use payaiml_core::moving;

use crate::cli::Cli;

pub async fn export(cli: &Cli, file: &Path, sandbox: bool) -> anyhow::Result<()> {
    let config = cli
        .settings
        .config(sandbox, FrontDoor::Daemon)
        .map_err(anyhow::Error::msg)?;
    let passphrase = passphrase(true)?;
    let done = moving::export(&config, file, &passphrase).await?;
    println!(
        "Exported the wallet in {} to {} ({} files, {} secrets, {} bytes).\n\
         This data dir is retired: it will not start again. On the other computer run\n\
         \x20 payaimld import {}\n\
         then start the app there. Keep the file and its passphrase until the wallet runs there; \
         the file holds the wallet's keys.",
        config.data_dir.display(),
        done.file.display(),
        done.files,
        done.secrets,
        done.bytes,
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    Ok(())
}

pub async fn import(cli: &Cli, file: &Path) -> anyhow::Result<()> {
    let passphrase = passphrase(false)?;
    let kind = moving::kind_of(file, &passphrase).await?;
    let mut settings = cli.settings.clone();
    if !kind.sandbox {
        if let Some(given) = settings.network.filter(|n| *n != kind.network) {
            anyhow::bail!(
                "the file holds a {} wallet, not a {given} one: leave out --network",
                kind.network
            );
        }
        settings.network = Some(kind.network);
    }
    let config = settings
        .config(kind.sandbox, FrontDoor::Daemon)
        .map_err(anyhow::Error::msg)?;
    let done = moving::import(&config, file, &passphrase).await?;
    let mut start = String::from("payaimld");
    if cli.settings.data_dir.is_some() {
        start.push_str(&format!(" --data-dir {}", done.data_dir.display()));
    }
    if kind.sandbox {
        start.push_str(" sandbox");
    } else {
        start.push_str(&format!(" --network {} serve", done.network));
    }
    println!(
        "Imported the {}{} wallet exported on {} into {} ({} files). Start it with: {start}",
        done.network,
        if done.sandbox { " sandbox" } else { "" },
        done.exported_at,
        done.data_dir.display(),
        done.files,
    );
    if !done.missing_secrets.is_empty() {
        eprintln!(
            "Warning: the file lacks {} secret(s) this wallet uses, missing from the old computer's \
             secret store already: {}. Those API keys cannot be revealed (revoke them and make new \
             ones) and those webhooks' signing secrets must be rotated.",
            done.missing_secrets.len(),
            done.missing_secrets.join(", ")
        );
    }
    Ok(())
}

/// The passphrase: typed without echo on a terminal (twice for a new one), else the first line
/// of standard input.
fn passphrase(new: bool) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(if new {
            "Choose a passphrase for the export file: "
        } else {
            "Passphrase of the export file: "
        })
        .context("cannot read the passphrase")?;
        if new {
            let again = rpassword::prompt_password("Type it again: ")
                .context("cannot read the passphrase")?;
            if again != first {
                anyhow::bail!("the two passphrases differ; nothing was exported");
            }
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the passphrase from standard input")?;
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    if line.is_empty() {
        anyhow::bail!("give the passphrase on standard input (one line)");
    }
    Ok(line)
}
