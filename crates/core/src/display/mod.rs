//! The customer display, reached through [`CustomerDisplay`] (`app.display()`): the screen that
//! faces the customer follows the point of sale's current sale, and may answer its tip question.
//!
//! - **What it shows** is one [`Screen`]: the sale being paid (an invoice id) or a tip question,
//!   set whole by the point of sale with each step of a sale. Its `version` rises with every
//!   change, and also when the sale itself is paid or expires, so a display waiting on the
//!   version (the API's long poll) learns of it at once.
//! - **Who may read it:** a display's own key carries `display:read` and nothing else, so a
//!   screen facing customers never holds rights over balances, invoices, payments or keys. The
//!   API refuses such a key everywhere but `/v1/display`.
//! - **Pairing:** a browser tab (or another device) gets its key by a short code that the
//!   dashboard shows ([`CustomerDisplay::start_pairing`]): 8 letters and digits from an alphabet
//!   without look-alikes (about 40 bits), good once, for 10 minutes, at most
//!   [`OPEN_PAIRINGS`] open at once. Wrong codes count as failed authentications in the API's
//!   limiter, so they cannot be tried at speed. The key it gives is an ordinary API key: listed
//!   with the others and revoked the same way, which takes effect at the next request.
//!
//! The screen lives in memory: after a restart the display shows its welcome until the point of
//! sale's next step (the sale itself, an invoice, is in the database as always).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorCode, Result};
use crate::events::EventRecord;
use crate::invoices::{Invoice, Invoices};
use crate::keys::{ApiKey, CreatedKey, KeyRole, Keys, NewKey, Permission};
use crate::util::{now_ms, rfc3339};

/// How long a pairing code works.
pub const PAIRING_TTL: Duration = Duration::from_secs(10 * 60);
/// Pairing codes open at once; a new one beyond this retires the oldest.
pub const OPEN_PAIRINGS: usize = 5;
/// Letters and digits a person reads without confusing them (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

/// What the customer display shows.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Screen {
    /// Rises with every change: the sale, the tip question, its answer, and the sale's own
    /// payment or expiry. Pass it as `after` to wait for the next change.
    pub version: u64,
    /// The invoice being paid, if one is.
    pub sale_id: Option<String>,
    /// The tip question, if the point of sale is asking one.
    pub tip_ask: Option<TipAsk>,
    /// The answer to it, once one is given (on either screen).
    pub tip_answer: Option<TipAnswer>,
    /// The key that put this screen up (the point of sale's): with a display's key, the only
    /// one that may answer its tip question.
    #[serde(skip)]
    pub(crate) shown_by: Option<String>,
}

/// A tip question: what is due, and the choices with what each comes to (priced by the server
/// beforehand, so the display does no arithmetic).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipAsk {
    /// The point of sale's own id for this question (an answer names it), 1 to 64 bytes.
    #[schema(min_length = 1, max_length = 64)]
    pub id: String,
    /// The unit of the amounts: a three-letter currency code, or null for sats.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// What is due before a tip, as a decimal string in that unit (as every amount here: digits,
    /// at most one point with digits after it, up to 24 characters).
    #[schema(pattern = "^[0-9]+([.][0-9]+)?$", max_length = 24)]
    pub due: String,
    /// The choices, 1 to 6.
    #[schema(min_items = 1, max_items = 6)]
    pub options: Vec<TipOption>,
}

/// One answer a tip question offers.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipOption {
    /// The percentage, e.g. `"10"`; null for no tip.
    #[schema(pattern = "^[0-9]+([.][0-9]+)?$", max_length = 24)]
    pub percent: Option<String>,
    /// The tip, as a decimal string.
    #[schema(pattern = "^[0-9]+([.][0-9]+)?$", max_length = 24)]
    pub tip: String,
    /// The total with it, as a decimal string.
    #[schema(pattern = "^[0-9]+([.][0-9]+)?$", max_length = 24)]
    pub total: String,
}

/// An answer to a tip question: one of its percentages, an amount of the customer's own, or
/// (both null) no tip.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipAnswer {
    /// The question's `id`.
    #[schema(min_length = 1, max_length = 64)]
    pub ask_id: String,
    /// One of the question's percentages.
    #[serde(default)]
    #[schema(pattern = "^[0-9]+([.][0-9]+)?$", max_length = 24)]
    pub percent: Option<String>,
    /// An amount in the question's unit, as a decimal string ("Other amount").
    #[serde(default)]
    #[schema(pattern = "^[0-9]+([.][0-9]+)?$", max_length = 24)]
    pub amount: Option<String>,
}

/// What the point of sale puts on the display: a sale, a tip question, or neither (the
/// welcome). It replaces the whole screen, and with it any earlier answer.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenUpdate {
    /// The invoice to show (an id or payment hash), or null.
    #[serde(default)]
    pub sale_id: Option<String>,
    /// The tip question to ask, or null.
    #[serde(default)]
    pub tip_ask: Option<TipAsk>,
}

/// A pairing code, as the dashboard shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pairing {
    /// `XXXX-XXXX`; typed without the dash or in lower case, it works the same.
    #[schema(example = "K7PM-4QXD")]
    pub code: String,
    /// When it stops working.
    pub expires_at: String,
}

/// A display's new key, answered once to the display that paired.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PairedDisplay {
    /// The key (`display:read` only). Keep it: it is not shown again.
    pub key: String,
    /// Its id, under which it is listed and revoked with the other API keys.
    pub key_id: String,
}

struct OpenPairing {
    code: String,
    expires_at_ms: i64,
}

/// The display's state, shared by every handle (one per app).
pub struct DisplayHub {
    screen: watch::Sender<Screen>,
    pairings: Mutex<Vec<OpenPairing>>,
}

impl Default for DisplayHub {
    fn default() -> Self {
        DisplayHub {
            screen: watch::Sender::new(Screen::default()),
            pairings: Mutex::new(Vec::new()),
        }
    }
}

impl DisplayHub {
    /// Raises the version when an event concerns the sale on screen (paid, expired), so a
    /// waiting display reads it at once. Runs until `stop`.
    pub(crate) async fn follow(
        self: Arc<Self>,
        mut live: broadcast::Receiver<EventRecord>,
        stop: CancellationToken,
    ) {
        loop {
            let event = tokio::select! {
                _ = stop.cancelled() => return,
                event = live.recv() => event,
            };
            match event {
                Ok(event) => {
                    let invoice = event.payload.get("invoice_id").and_then(|v| v.as_str());
                    self.screen.send_if_modified(|s| {
                        let concerns = invoice.is_some() && s.sale_id.as_deref() == invoice;
                        if concerns {
                            s.version += 1;
                        }
                        concerns
                    });
                }
                // Missed events may include the sale's: a display re-reading costs nothing.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.screen.send_modify(|s| s.version += 1)
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// The customer display's handle.
pub struct CustomerDisplay<'a> {
    hub: &'a DisplayHub,
    keys: &'a Keys,
    invoices: Invoices<'a>,
}

impl<'a> CustomerDisplay<'a> {
    pub(crate) fn new(hub: &'a DisplayHub, keys: &'a Keys, invoices: Invoices<'a>) -> Self {
        CustomerDisplay {
            hub,
            keys,
            invoices,
        }
    }

    /// The screen now.
    pub fn screen(&self) -> Screen {
        self.hub.screen.borrow().clone()
    }

    /// A receiver that wakes at each change of the screen.
    pub fn watch(&self) -> watch::Receiver<Screen> {
        self.hub.screen.subscribe()
    }

    /// The invoice on screen, if any (still there: a sale is never deleted, but read it fresh).
    pub async fn sale(&self, screen: &Screen) -> Result<Option<Invoice>> {
        match &screen.sale_id {
            None => Ok(None),
            Some(id) => match self.invoices.get(id).await {
                Ok(invoice) => Ok(Some(invoice)),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            },
        }
    }

    /// Puts a sale or a tip question on screen (or, with neither, the welcome) for the point of
    /// sale whose key is `shown_by`. `made_by` limits the sale to invoices that key made (a key
    /// that reads only its own).
    pub async fn show(
        &self,
        update: ScreenUpdate,
        shown_by: &str,
        made_by: Option<&str>,
    ) -> Result<Screen> {
        if update.sale_id.is_some() && update.tip_ask.is_some() {
            return Err(Error::invalid(
                "tip_ask",
                "show a sale or ask a tip question, not both: the question comes before the sale",
            ));
        }
        let sale_id = match update.sale_id.as_deref() {
            None => None,
            Some(id) => Some(
                match made_by {
                    None => self.invoices.get(id).await?,
                    Some(key) => self.invoices.get_made_by(id, key).await?,
                }
                .id,
            ),
        };
        if let Some(ask) = &update.tip_ask {
            check_ask(ask)?;
        }
        self.hub.screen.send_modify(|s| {
            s.version += 1;
            s.sale_id = sale_id;
            s.tip_ask = update.tip_ask;
            s.tip_answer = None;
            s.shown_by = Some(shown_by.to_string());
        });
        Ok(self.screen())
    }

    /// Makes every waiting display read again (after a display's key is revoked, so it learns at
    /// once).
    pub fn refresh(&self) {
        self.hub.screen.send_modify(|s| s.version += 1);
    }

    /// Answers the open tip question (the first answer counts; the point of sale then charges)
    /// with the key `by`: a display's (`display:read`), or the point of sale's that asked. A key
    /// that only reads invoices may watch the display but not answer for the customer.
    pub fn answer_tip(&self, answer: TipAnswer, by: &ApiKey) -> Result<Screen> {
        if answer.percent.is_some() && answer.amount.is_some() {
            return Err(Error::invalid(
                "amount",
                "answer with a percentage or an amount, not both",
            ));
        }
        if let Some(amount) = &answer.amount {
            if !is_decimal(amount) {
                return Err(Error::invalid(
                    "amount",
                    "the tip is a decimal string such as \"2.50\"",
                ));
            }
        }
        let mut outcome = Ok(());
        self.hub.screen.send_if_modified(|s| {
            if !by.allows(Permission::DisplayRead) && s.shown_by.as_deref() != Some(by.id.as_str()) {
                outcome = Err(Error::forbidden(
                    ErrorCode::MissingPermission,
                    None,
                    "only the customer display (a display:read key) or the point of sale that asked may answer its tip question",
                ));
                return false;
            }
            match apply_answer(s, answer) {
                Ok(changed) => changed,
                Err(e) => {
                    outcome = Err(e);
                    false
                }
            }
        });
        outcome.map(|()| self.screen())
    }

    /// Opens a pairing code for a new display.
    pub fn start_pairing(&self) -> Pairing {
        let mut rng = rand::thread_rng();
        let code: String = (0..CODE_LEN)
            .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
            .collect();
        let expires_at_ms = now_ms() + PAIRING_TTL.as_millis() as i64;
        let mut open = self.pairings();
        open.retain(|p| p.expires_at_ms > now_ms());
        if open.len() >= OPEN_PAIRINGS {
            open.remove(0);
        }
        open.push(OpenPairing {
            code: code.clone(),
            expires_at_ms,
        });
        Pairing {
            code: format!("{}-{}", &code[..4], &code[4..]),
            expires_at: rfc3339(expires_at_ms),
        }
    }

    /// Trades a pairing code for a display key named `name` (or "Customer display"). A found
    /// code is spent whatever happens next.
    pub async fn pair(&self, code: &str, name: Option<&str>) -> Result<PairedDisplay> {
        let name: String = name
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        let name = match name.trim() {
            "" => "Customer display".to_string(),
            n if n.chars().count() > 60 => {
                return Err(Error::invalid(
                    "name",
                    "a display's name is at most 60 characters",
                ))
            }
            n => format!("Customer display: {n}"),
        };
        let wanted: String = code
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let found = {
            let mut open = self.pairings();
            let now = now_ms();
            open.retain(|p| p.expires_at_ms > now);
            let at = open.iter().position(|p| p.code == wanted);
            at.map(|i| open.remove(i)).is_some()
        };
        if !found {
            return Err(Error::unprocessable(
                ErrorCode::InvalidPairingCode,
                Some("code"),
                "this pairing code is unknown, used or expired: show a new one on the dashboard (Point of sale → Pair a screen)",
            ));
        }
        let CreatedKey { key, secret } = self
            .keys
            .create_as(
                NewKey {
                    name,
                    permissions: BTreeSet::from([Permission::DisplayRead]),
                    budget: None,
                    expires_at_ms: None,
                },
                Some(KeyRole::Display),
            )
            .await?;
        Ok(PairedDisplay {
            key: secret,
            key_id: key.id,
        })
    }

    fn pairings(&self) -> std::sync::MutexGuard<'_, Vec<OpenPairing>> {
        // A panic elsewhere while holding it leaves a plain list behind, still usable.
        self.hub
            .pairings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Records `answer` on `screen` if it answers the open question: `Ok(true)` when recorded,
/// `Ok(false)` when the question was answered already (the first answer stands).
fn apply_answer(screen: &mut Screen, answer: TipAnswer) -> Result<bool> {
    let Some(ask) = &screen.tip_ask else {
        return Err(Error::conflict(
            ErrorCode::DisplayConflict,
            "no tip question is open on the display any more",
        ));
    };
    if ask.id != answer.ask_id {
        return Err(Error::conflict(
            ErrorCode::DisplayConflict,
            "the tip question changed: answer the one on screen now",
        ));
    }
    if answer.amount.is_none() && !ask.options.iter().any(|o| o.percent == answer.percent) {
        return Err(Error::invalid(
            "percent",
            "that percentage is not one the question offers",
        ));
    }
    if screen.tip_answer.is_some() {
        return Ok(false);
    }
    screen.tip_answer = Some(answer);
    screen.version += 1;
    Ok(true)
}

/// Bounds on a tip question, so a screen shows what a person can read.
fn check_ask(ask: &TipAsk) -> Result<()> {
    if ask.id.is_empty() || ask.id.len() > 64 {
        return Err(Error::invalid(
            "tip_ask.id",
            "the question's id is 1 to 64 characters",
        ));
    }
    if ask.options.is_empty() || ask.options.len() > 6 {
        return Err(Error::invalid(
            "tip_ask.options",
            "a tip question offers 1 to 6 choices",
        ));
    }
    if ask
        .currency
        .as_ref()
        .is_some_and(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(Error::invalid(
            "tip_ask.currency",
            "the currency is a three-letter code in capitals (\"EUR\"), or null for sats",
        ));
    }
    let amounts = std::iter::once(&ask.due).chain(
        ask.options
            .iter()
            .flat_map(|o| [&o.tip, &o.total].into_iter().chain(o.percent.as_ref())),
    );
    for amount in amounts {
        if !is_decimal(amount) {
            return Err(Error::invalid(
                "tip_ask",
                format!("'{amount}' is not a decimal string such as \"2.50\""),
            ));
        }
    }
    Ok(())
}

/// A non-negative decimal string of at most 24 characters: digits, and at most one point
/// followed by digits.
fn is_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    text.len() <= 24
        && !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(id: &str) -> TipAsk {
        TipAsk {
            id: id.into(),
            currency: Some("EUR".into()),
            due: "9.40".into(),
            options: vec![
                TipOption {
                    percent: None,
                    tip: "0".into(),
                    total: "9.40".into(),
                },
                TipOption {
                    percent: Some("10".into()),
                    tip: "0.94".into(),
                    total: "10.34".into(),
                },
            ],
        }
    }

    #[test]
    fn decimals_are_read_strictly() {
        for ok in ["0", "2.50", "10", "0.94"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in ["", ".5", "5.", "-1", "1e3", "2,50", "1.2.3", " 1"] {
            assert!(!is_decimal(bad), "{bad}");
        }
        assert!(check_ask(&ask("t1")).is_ok());
        let mut long = ask("t1");
        long.options = vec![long.options[0].clone(); 7];
        assert!(check_ask(&long).is_err());
        // A currency is three capital letters, as the document's pattern says ("é" and "eur"
        // were let through by a length test).
        for bad in ["eur", "EU", "EURO", "éa"] {
            let mut odd = ask("t1");
            odd.currency = Some(bad.into());
            assert!(check_ask(&odd).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_answer_stands_and_a_changed_question_refuses_late_ones() {
        let answer = |ask_id: &str, percent: Option<&str>, amount: Option<&str>| TipAnswer {
            ask_id: ask_id.into(),
            percent: percent.map(Into::into),
            amount: amount.map(Into::into),
        };
        let mut screen = Screen::default();
        let code = |r: Result<bool>| r.err().map(|e| e.code());
        assert_eq!(
            code(apply_answer(&mut screen, answer("t1", None, None))),
            Some(ErrorCode::DisplayConflict),
            "no question open"
        );
        screen.tip_ask = Some(ask("t1"));
        screen.version = 1;
        assert_eq!(
            code(apply_answer(&mut screen, answer("t0", Some("10"), None))),
            Some(ErrorCode::DisplayConflict)
        );
        assert_eq!(
            code(apply_answer(&mut screen, answer("t1", Some("15"), None))),
            Some(ErrorCode::InvalidField)
        );
        assert!(apply_answer(&mut screen, answer("t1", Some("10"), None)).expect("first"));
        assert_eq!(screen.version, 2);
        assert!(!apply_answer(&mut screen, answer("t1", None, Some("3"))).expect("second"));
        assert_eq!(screen.version, 2, "a second answer changes nothing");
        let first = screen.tip_answer.and_then(|a| a.percent);
        assert_eq!(first.as_deref(), Some("10"));
    }

    #[test]
    fn no_tip_is_an_answer_when_offered() {
        let mut screen = Screen {
            tip_ask: Some(ask("t1")),
            ..Screen::default()
        };
        let none = TipAnswer {
            ask_id: "t1".into(),
            percent: None,
            amount: None,
        };
        assert!(apply_answer(&mut screen, none).expect("no tip"));
    }
}
