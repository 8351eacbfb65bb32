//! Shop plugins' pairing requests (BTCPay's `/api-keys/authorize`, answered in
//! [`crate::greenfield`]) where the dashboard is not on the API's address: the desktop app shows its dashboard
//! in its own window, while a shop plugin sends the merchant's *browser* to `/api-keys/authorize`.
//! The browser tab gets a small page that waits; the app's window opens the pairing page for the
//! request; once the merchant approves there, the waiting tab (which holds the shop's session,
//! so the shop accepts the post) sends the key to the shop, as BTCPay's page does. Refused,
//! nothing is made and the tab says so. Requests live in memory for 15 minutes: a restart
//! forgets them, and the shop's link is simply clicked again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long a request waits for the merchant.
const TTL: Duration = Duration::from_secs(15 * 60);
/// The most requests waiting at once (the oldest goes first).
const MAX_WAITING: usize = 64;

/// What opens the pairing page where the merchant sees it (the desktop app's window), given the
/// dashboard route to show (`/authorize?…&request=…`). Set once the window exists.
#[derive(Clone, Default)]
pub struct PairingWindow(pub Arc<OnceLock<ShowPairing>>);

/// Shows the dashboard route it is given in the app's window.
pub type ShowPairing = Box<dyn Fn(&str) + Send + Sync>;

impl std::fmt::Debug for PairingWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "PairingWindow(set)"
        } else {
            "PairingWindow(unset)"
        })
    }
}

/// Where a request stands, as the waiting tab reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum PendingState {
    /// The merchant has not answered yet.
    Waiting,
    /// Approved: the key and its permissions to post to the shop (handed out once).
    Approved {
        /// The key.
        #[serde(rename = "apiKey")]
        api_key: String,
        /// `permissions[]`, as BTCPay writes them.
        permissions: Vec<String>,
    },
    /// Refused: nothing was made.
    Refused,
    /// Unknown, handed out already, or older than 15 minutes.
    Expired,
}

/// The requests waiting for the merchant.
#[derive(Debug, Default)]
pub struct PendingPairings {
    inner: Mutex<HashMap<String, (Instant, PendingState)>>,
}

impl PendingPairings {
    /// A new request, waiting; its id (32 letters and digits, unguessable).
    pub fn open(&self) -> String {
        let id = payaiml_core::util::random_alnum(32);
        if let Ok(mut map) = self.inner.lock() {
            map.retain(|_, (at, _)| at.elapsed() < TTL);
            while map.len() >= MAX_WAITING {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => map.remove(&k),
                    None => break,
                };
            }
            map.insert(id.clone(), (Instant::now(), PendingState::Waiting));
        }
        id
    }

    /// Whether `id` waits for an answer.
    pub fn waiting(&self, id: &str) -> bool {
        self.inner.lock().is_ok_and(
            |map| matches!(map.get(id), Some((at, PendingState::Waiting)) if at.elapsed() < TTL),
        )
    }

    /// Records the answer of a waiting request; false when it no longer waits.
    pub fn answer(&self, id: &str, state: PendingState) -> bool {
        let Ok(mut map) = self.inner.lock() else {
            return false;
        };
        match map.get_mut(id) {
            Some((at, current)) if *current == PendingState::Waiting && at.elapsed() < TTL => {
                *current = state;
                true
            }
            _ => false,
        }
    }

    /// The state for the waiting tab; an answer is handed out once.
    pub fn take(&self, id: &str) -> PendingState {
        let Ok(mut map) = self.inner.lock() else {
            return PendingState::Expired;
        };
        match map.get(id) {
            Some((at, _)) if at.elapsed() >= TTL => {
                map.remove(id);
                PendingState::Expired
            }
            Some((_, PendingState::Waiting)) => PendingState::Waiting,
            Some(_) => map
                .remove(id)
                .map(|(_, s)| s)
                .unwrap_or(PendingState::Expired),
            None => PendingState::Expired,
        }
    }
}

/// The waiting tab's page. `shown`: whether the app's window was asked to show the request.
pub fn waiting_page(id: &str, shown: bool) -> String {
    let (title, text) = if shown {
        (
            "Approve in PayAiML Merchant",
            "The PayAiML Merchant window shows what the shop asks for. Approve or refuse there: \
             this page then sends the key to your shop, or tells you nothing was shared.",
        )
    } else {
        (
            "PayAiML Merchant's dashboard is not served here",
            "This server shows no dashboard on this address, so the request cannot be approved \
             here. Start payaimld with its dashboard (--ui-dir), or use the desktop app, then \
             start again from your shop's settings. Nothing was shared.",
        )
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:34rem;\
         margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}}\
         @media (prefers-color-scheme: dark){{body{{color:#ececec;background:#141416}}}}\
         h1{{font-size:1.3rem;border-bottom:3px solid #f7931a;padding-bottom:.4rem}}</style></head>\
         <body><main data-request=\"{id}\" data-shown=\"{shown}\"><h1>{title}</h1><p>{text}</p>\
         <p id=\"state\" role=\"status\" aria-live=\"polite\"></p></main>\
         <script src=\"/api-keys/authorize.js\" defer></script></body></html>"
    )
}

/// The waiting tab's script: asks for the answer every second; approved, posts `apiKey` and
/// `permissions[]` to the shop's `redirect` as a form, as BTCPay's page does.
pub const WAITING_SCRIPT: &str = r#"(function () {
  'use strict';
  var main = document.querySelector('main[data-request]');
  if (!main || main.getAttribute('data-shown') !== 'true') return;
  var id = main.getAttribute('data-request');
  var status = document.getElementById('state');
  var redirect = new URLSearchParams(location.search).get('redirect') || '';
  function say(text) { status.textContent = text; }
  function post(answer) {
    var url;
    try { url = new URL(redirect); } catch (e) { url = null; }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      say('Approved, but the shop gave no valid address to send the key to. Start again from the shop.');
      return;
    }
    var form = document.createElement('form');
    form.method = 'post';
    form.action = url.href;
    var add = function (name, value) {
      var input = document.createElement('input');
      input.type = 'hidden'; input.name = name; input.value = value;
      form.appendChild(input);
    };
    add('apiKey', answer.apiKey);
    answer.permissions.forEach(function (p) { add('permissions[]', p); });
    document.body.appendChild(form);
    say('Approved. Sending the key to ' + url.origin + '…');
    form.submit();
  }
  function ask() {
    fetch('/api-keys/authorize/' + encodeURIComponent(id), { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.state === 'approved') post(answer);
        else if (answer.state === 'refused') say('Refused: nothing was shared with the shop. You can close this tab.');
        else if (answer.state === 'expired') say('This request is no longer waiting. Start again from your shop.');
        else setTimeout(ask, 1000);
      })
      .catch(function () { setTimeout(ask, 3000); });
  }
  say('Waiting for your answer in the PayAiML Merchant window…');
  ask();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_given_once_and_only_to_a_waiting_request() {
        let pending = PendingPairings::default();
        let id = pending.open();
        assert!(pending.waiting(&id));
        assert_eq!(pending.take(&id), PendingState::Waiting);
        let approved = PendingState::Approved {
            api_key: "pk_x".into(),
            permissions: vec!["p:s".into()],
        };
        assert!(pending.answer(&id, approved.clone()));
        assert!(
            !pending.answer(&id, PendingState::Refused),
            "answered already"
        );
        assert_eq!(pending.take(&id), approved);
        assert_eq!(pending.take(&id), PendingState::Expired, "handed out once");
        assert!(!pending.waiting("unknown"));
        assert!(!pending.answer("unknown", PendingState::Refused));
    }
}
