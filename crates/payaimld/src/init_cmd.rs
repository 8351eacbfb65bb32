//! `payaimld init`: make the wallet of a real node on purpose. New recovery words are shown on
//! the terminal only (never on a pipe or in a log) and confirmed by typing three of them back
//! before anything is stored; `--restore` reads the merchant's own words from standard input.

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{bail, Context};
use payaiml_core::ldk_node::bip39::Mnemonic;
use payaiml_core::seed::{self, Origin};
use payaiml_core::{App, SecretsBackend};
use rand::seq::index::sample;

use crate::cli::Cli;

/// What the words bring back, and what not.
const WHAT_THEY_RESTORE: &str = "\
These words are this wallet: its node id and its on-chain keys. Anyone who has them can spend
its on-chain funds: keep them offline. They do NOT hold the state of open Lightning channels:
money in channels comes back only with the words AND a backup of that state (--backup, see
docs/backup.md), or with the data dir itself (keep it, or move it with `payaimld export`). And a
wallet restored from them finds earlier on-chain funds only if its chain source looks back for
them (a bitcoind RPC source does not: see the README).";

pub async fn run(cli: &Cli, restore: bool) -> anyhow::Result<()> {
    let config = cli.config()?;
    if App::has_wallet(&config).await? {
        bail!(
            "{} already has a wallet; to make or restore another one, use an empty --data-dir",
            config.data_dir.display()
        );
    }
    let (words, origin) = if restore {
        (read_words()?, Origin::Restored)
    } else {
        (show_and_confirm()?, Origin::New)
    };
    let shop = App::init(&config, &words, origin).await?;
    let what = match (restore, &config.backup, &shop) {
        (true, Some(_), Some(shop)) => format!(
            "Restored, with the shop's data from the backup of {} ({} invoices, {} payments, {} API keys, {} webhooks, {} secrets; \
             its channels come back at its first start)",
            shop.base_made_at.get(..10).unwrap_or(&shop.base_made_at),
            shop.invoices,
            shop.payments,
            shop.api_keys,
            shop.webhooks,
            shop.secrets
        ),
        (true, Some(_), None) => {
            "Restored (its channels come back from the backup at its first start; the backup holds no shop data)".to_string()
        }
        (true, None, _) => "Restored".to_string(),
        (false, _, _) => "Made".to_string(),
    };
    let mut start = format!("payaimld --network {}", config.network);
    if cli.settings.data_dir.is_some() {
        start.push_str(&format!(" --data-dir {}", config.data_dir.display()));
    }
    if config.secrets == SecretsBackend::File {
        start.push_str(" --secrets file");
    }
    println!(
        "{what} the {} wallet in {}. Start it with: {start} serve",
        config.network,
        config.data_dir.display(),
    );
    Ok(())
}

/// The words to restore from standard input: one line when a person types them at a terminal,
/// everything when they come from a pipe or a file.
fn read_words() -> anyhow::Result<Mnemonic> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprint!("Type the recovery words, separated by spaces, then Enter: ");
        stdin.lock().read_line(&mut text)?;
    } else {
        stdin.lock().read_to_string(&mut text)?;
    }
    Ok(seed::parse_recovery_words(&text)?)
}

/// New words, shown once on the terminal; three picked at random must be typed back.
fn show_and_confirm() -> anyhow::Result<Mnemonic> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!(
            "new recovery words are shown only on a terminal, never into a pipe or a log: run \
             `payaimld init` in a terminal (or `payaimld init --restore` to restore a wallet from its words)"
        );
    }
    let words = seed::new_words();
    let list: Vec<&str> = words.words().collect();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "\nYour recovery words. Write them down, in order, on paper; they are shown this once.\n"
    )?;
    let rows = list.len().div_ceil(4);
    for row in 0..rows {
        let line: Vec<String> = (0..4)
            .filter_map(|col| {
                let i = col * rows + row;
                list.get(i).map(|w| format!("{:>2}. {w:<10}", i + 1))
            })
            .collect();
        writeln!(out, "  {}", line.join("  "))?;
    }
    writeln!(out, "\n{WHAT_THEY_RESTORE}\n")?;
    writeln!(out, "To check that you have them, type three of them back.")?;
    out.flush()?;
    let mut positions = sample(&mut rand::thread_rng(), list.len(), 3).into_vec();
    positions.sort_unstable();
    let stdin = std::io::stdin();
    for i in positions {
        loop {
            print!("Word {}: ", i + 1);
            std::io::stdout().flush()?;
            let mut typed = String::new();
            if stdin
                .lock()
                .read_line(&mut typed)
                .context("reading a word")?
                == 0
            {
                bail!("stopped before the words were confirmed: nothing was made");
            }
            if typed.trim().eq_ignore_ascii_case(list[i]) {
                break;
            }
            println!(
                "That is not word {}. Look at what you wrote down and try again.",
                i + 1
            );
        }
    }
    // Clear the screen and its scrollback, so the words are not left in view.
    print!("\x1b[3J\x1b[2J\x1b[H");
    Ok(words)
}
