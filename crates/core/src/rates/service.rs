//! The rate service: fetches quotes from the chosen providers, keeps the last good quote of
//! each, and makes a rate of those fresh enough ([`super::combine`]).
//!
//! When it fetches:
//! - **Nothing** while the merchant counts in sats only and nothing asks for a rate.
//! - **In the background**, every `refresh` (60 s by default), for the merchant's currency
//!   (every sale records its value at the time) and for any other currency asked for in the
//!   last ten minutes.
//! - **At once**, when a price in a currency is asked for and the last round is older than
//!   `refresh` (or failed more than five seconds ago), so a rate is never older than needed.
//!
//! Each request has a short timeout (3 s); the providers are asked together, so one slow
//! provider delays a round by that much at most, and its last good quote still counts until it
//! is older than the maximum age.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::providers::{Provider, ALL};
use super::{combine, Quote, Rate, Recorded};
use crate::error::{Error, Result};
use crate::util::{now_ms, rfc3339};

/// How long one provider may take to answer.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// After a round that gave no rate, the next may start this much later.
const RETRY_AFTER_MS: i64 = 5_000;
/// A currency asked for (other than the merchant's) is kept fresh this long after.
const WANTED_FOR_MS: i64 = 10 * 60_000;

/// How the service is set up at start (flags and `PAYAIML_RATE_*` variables).
#[derive(Debug, Clone)]
pub struct RatesConfig {
    /// A base URL per provider, replacing its public one (a proxy, or a stand-in in tests).
    pub urls: BTreeMap<Provider, String>,
    /// The oldest a quote may be and still count.
    pub max_age: Duration,
    /// How often a rate in use is fetched again.
    pub refresh: Duration,
}

/// The default maximum age of a quote: five minutes.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The default refresh interval: one minute.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(60);

impl Default for RatesConfig {
    fn default() -> Self {
        RatesConfig {
            urls: BTreeMap::new(),
            max_age: DEFAULT_MAX_AGE,
            refresh: DEFAULT_REFRESH,
        }
    }
}

/// One provider's last answer for one currency.
#[derive(Debug, Clone, Default)]
struct Slot {
    /// Its last good quote.
    quote: Option<Quote>,
    /// When it was last asked, and what went wrong then, if anything.
    tried_at: Option<i64>,
    error: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    /// The merchant's currency (`None`: sats only).
    currency: Option<String>,
    /// The providers the merchant uses.
    enabled: Vec<Provider>,
    /// Per currency, per provider.
    slots: HashMap<String, BTreeMap<Provider, Slot>>,
    /// Per currency: when its last round ended, and whether it gave a rate.
    rounds: HashMap<String, (i64, bool)>,
    /// Per currency other than the merchant's: when it was last asked for.
    wanted: HashMap<String, i64>,
}

/// Exchange rates for the whole app. Shared as `Arc<RateService>`.
pub struct RateService {
    client: Option<reqwest::Client>,
    config: RatesConfig,
    state: Mutex<State>,
    /// One round at a time: requests that arrive during a round wait for it, then use it.
    round: tokio::sync::Mutex<()>,
}

/// The state of one provider, as `GET /v1/rates` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProviderStatus {
    /// Its last answer was a price.
    Ok,
    /// Its last answer was not a price (down, slow, refused, or garbage): see `error`.
    Failed,
    /// Not asked yet.
    Idle,
    /// It does not quote this currency.
    Unsupported,
    /// The merchant does not use it.
    Disabled,
}

/// One provider, as `GET /v1/rates` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    /// `coinbase`, `kraken`, `bitstamp` or `coingecko`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether the merchant uses it.
    pub enabled: bool,
    /// Where it is asked.
    pub base_url: String,
    /// How its last answer went.
    pub status: ProviderStatus,
    /// Its last good price of one bitcoin, as a decimal string.
    pub per_btc: Option<String>,
    /// When that price was fetched.
    pub fetched_at: Option<String>,
    /// What went wrong the last time, if anything.
    pub error: Option<String>,
}

/// A rate, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateView {
    /// ISO 4217 code.
    pub currency: String,
    /// Units of the currency per bitcoin, as a decimal string.
    pub per_btc: String,
    /// The providers whose quotes made it.
    pub sources: Vec<String>,
    /// When its oldest quote was fetched.
    pub as_of: String,
    /// How old that is, in seconds.
    pub age_seconds: i64,
}

/// `GET /v1/rates`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatesView {
    /// The merchant's currency (null: sats only).
    pub merchant_currency: Option<String>,
    /// The currency shown (the merchant's, or the one asked for).
    pub currency: Option<String>,
    /// The rate, or null when none is fresh enough (see `error`).
    pub rate: Option<RateView>,
    /// Why there is no rate.
    pub error: Option<String>,
    /// The oldest a quote may be and still count, in seconds.
    pub max_age_seconds: u64,
    /// Every provider, with how its last answer went for this currency.
    pub providers: Vec<ProviderView>,
}

/// Reads an ISO 4217 code the app supports, in any case.
pub fn currency_code(text: &str, field: &'static str) -> Result<String> {
    let code = text.trim().to_ascii_uppercase();
    match super::minor_units(&code) {
        Some(_) => Ok(code),
        None => Err(Error::invalid(
            field,
            format!(
                "'{text}' is not a supported currency: use USD, EUR, GBP, CHF, CAD, AUD or JPY"
            ),
        )),
    }
}

impl RateService {
    /// A service with every provider enabled and the merchant counting in sats.
    pub fn new(config: RatesConfig) -> Arc<RateService> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            // Rates come from the address configured, never through a proxy the environment
            // names by chance; a merchant behind a proxy sets the base URLs to it.
            .no_proxy()
            .user_agent(concat!("PayAiML-Merchant/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| tracing::error!(error = %e, "exchange rates are off: the HTTP client did not build"))
            .ok();
        Arc::new(RateService {
            client,
            config,
            state: Mutex::new(State {
                enabled: ALL.to_vec(),
                ..State::default()
            }),
            round: tokio::sync::Mutex::new(()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The merchant's choice: their currency (`None`: sats only) and the providers to use.
    pub fn set_choice(&self, currency: Option<String>, enabled: Vec<Provider>) {
        let mut state = self.state();
        state.currency = currency;
        state.enabled = enabled;
    }

    /// The merchant's currency (`None`: sats only).
    pub fn merchant_currency(&self) -> Option<String> {
        self.state().currency.clone()
    }

    /// The providers the merchant uses.
    pub fn enabled(&self) -> Vec<Provider> {
        self.state().enabled.clone()
    }

    /// The oldest a quote may be and still count.
    pub fn max_age(&self) -> Duration {
        self.config.max_age
    }

    fn base_url(&self, provider: Provider) -> String {
        self.config
            .urls
            .get(&provider)
            .cloned()
            .unwrap_or_else(|| provider.default_base_url().to_string())
    }

    /// The rate of `currency` from what is kept, without fetching (a sale in sats records the
    /// rate of the moment this way, never waiting on the network).
    pub fn cached(&self, currency: &str) -> Option<Rate> {
        self.combined(currency, now_ms()).ok()
    }

    /// The merchant's rate of the moment, as it is recorded with a sale or payment in sats
    /// (from what is kept: never waits for a provider); `None` in sats-only mode or with no
    /// fresh rate.
    pub fn merchant_rate(&self) -> Option<Recorded> {
        let currency = self.merchant_currency()?;
        let rate = self.cached(&currency)?;
        Some(Recorded::of(&currency, &rate, None))
    }

    fn combined(&self, currency: &str, now: i64) -> Result<Rate> {
        let state = self.state();
        let quotes: Vec<Quote> = state
            .slots
            .get(currency)
            .into_iter()
            .flat_map(|slots| slots.iter())
            .filter(|(p, _)| state.enabled.contains(p))
            .filter_map(|(_, slot)| slot.quote.clone())
            .collect();
        combine(&quotes, now, self.config.max_age.as_millis() as i64)
    }

    /// Whether `currency` needs a round now: the last one is older than `refresh`, or gave no
    /// rate more than five seconds ago.
    fn due(&self, currency: &str, now: i64) -> bool {
        match self.state().rounds.get(currency) {
            None => true,
            Some((at, true)) => now - at >= self.config.refresh.as_millis() as i64,
            Some((at, false)) => now - at >= RETRY_AFTER_MS,
        }
    }

    /// The rate of `currency` to price something at now: fetched first when due. `503
    /// rate_unavailable` when no quote is fresh enough, never a guess.
    pub async fn rate(&self, currency: &str) -> Result<Rate> {
        let currency = currency_code(currency, "currency")?;
        let now = now_ms();
        if self.state().currency.as_deref() != Some(&currency) {
            self.state().wanted.insert(currency.clone(), now);
        }
        if self.due(&currency, now) {
            self.refresh(&currency).await;
        }
        self.combined(&currency, now_ms()).map_err(|e| match e {
            Error::Unavailable { code, message } if self.state().enabled.is_empty() => {
                Error::Unavailable {
                    code,
                    message: format!("{message} (no rate provider is enabled in Settings)"),
                }
            }
            other => other,
        })
    }

    /// Asks every enabled provider that quotes `currency`, together, and keeps what they say.
    pub async fn refresh(&self, currency: &str) {
        let _round = self.round.lock().await;
        // A round that ended while this one waited its turn is as good as one now.
        if !self.due(currency, now_ms()) {
            return;
        }
        let Some(client) = self.client.clone() else {
            return;
        };
        let providers: Vec<Provider> = self
            .enabled()
            .into_iter()
            .filter(|p| p.supports(currency))
            .collect();
        let mut asking = JoinSet::new();
        for provider in providers {
            let (client, url, currency) = (
                client.clone(),
                provider.url(&self.base_url(provider), currency),
                currency.to_string(),
            );
            asking.spawn(async move { (provider, ask(&client, provider, &url, &currency).await) });
        }
        let mut answers = Vec::new();
        while let Some(joined) = asking.join_next().await {
            if let Ok(answer) = joined {
                answers.push(answer);
            }
        }
        let now = now_ms();
        {
            let mut state = self.state();
            let slots = state.slots.entry(currency.to_string()).or_default();
            for (provider, answer) in answers {
                let slot = slots.entry(provider).or_default();
                slot.tried_at = Some(now);
                match answer {
                    Ok(per_btc) => {
                        slot.error = None;
                        slot.quote = Some(Quote {
                            source: provider.id().to_string(),
                            per_btc,
                            fetched_at: now,
                        });
                    }
                    Err(error) => {
                        tracing::warn!(%provider, currency, %error, "an exchange rate provider did not give a price");
                        slot.error = Some(error);
                    }
                }
            }
        }
        let ok = self.combined(currency, now).is_ok();
        self.state().rounds.insert(currency.to_string(), (now, ok));
    }

    /// What `GET /v1/rates` shows for `currency` (the merchant's when `None`), fetching first
    /// when due. Nothing is fetched in sats-only mode unless a currency is asked for.
    pub async fn view(&self, currency: Option<&str>) -> Result<RatesView> {
        let merchant = self.merchant_currency();
        let currency = match currency {
            Some(c) => Some(currency_code(c, "currency")?),
            None => merchant.clone(),
        };
        let (rate, error) = match &currency {
            None => (None, None),
            Some(c) => match self.rate(c).await {
                Ok(rate) => (Some(rate), None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        let now = now_ms();
        let state = self.state();
        let providers = ALL
            .iter()
            .map(|&p| {
                let enabled = state.enabled.contains(&p);
                let slot = currency
                    .as_ref()
                    .and_then(|c| state.slots.get(c))
                    .and_then(|s| s.get(&p))
                    .cloned()
                    .unwrap_or_default();
                let supported = currency.as_deref().is_none_or(|c| p.supports(c));
                let status = match () {
                    _ if !enabled => ProviderStatus::Disabled,
                    _ if !supported => ProviderStatus::Unsupported,
                    _ if slot.error.is_some() => ProviderStatus::Failed,
                    _ if slot.quote.is_some() => ProviderStatus::Ok,
                    _ => ProviderStatus::Idle,
                };
                ProviderView {
                    id: p.id().into(),
                    name: p.name().into(),
                    enabled,
                    base_url: self.base_url(p),
                    status,
                    per_btc: slot
                        .quote
                        .as_ref()
                        .map(|q| q.per_btc.normalize().to_string()),
                    fetched_at: slot.quote.as_ref().map(|q| rfc3339(q.fetched_at)),
                    error: slot.error,
                }
            })
            .collect();
        Ok(RatesView {
            merchant_currency: merchant,
            rate: rate.map(|r| RateView {
                currency: currency.clone().unwrap_or_default(),
                per_btc: r.per_btc.normalize().to_string(),
                sources: r.sources,
                as_of: rfc3339(r.as_of),
                age_seconds: (now - r.as_of).max(0) / 1000,
            }),
            currency,
            error,
            max_age_seconds: self.config.max_age.as_secs(),
            providers,
        })
    }

    /// Keeps the rates in use fresh until `stop`: the merchant's currency, and those asked for
    /// in the last ten minutes. Fetches nothing while neither exists.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let now = now_ms();
            let due: Vec<String> = {
                let mut state = self.state();
                state.wanted.retain(|_, at| now - *at < WANTED_FOR_MS);
                state
                    .currency
                    .iter()
                    .chain(state.wanted.keys())
                    .cloned()
                    .collect()
            };
            for currency in due {
                if self.due(&currency, now) {
                    self.refresh(&currency).await;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.refresh.clamp(Duration::from_millis(50), Duration::from_secs(1))) => {}
                _ = stop.cancelled() => return,
            }
        }
    }
}

/// Asks one provider for the price of one bitcoin.
async fn ask(
    client: &reqwest::Client,
    provider: Provider,
    url: &str,
    currency: &str,
) -> std::result::Result<Decimal, String> {
    let response = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {} s", FETCH_TIMEOUT.as_secs())
        } else {
            format!("could not be reached ({e})")
        }
    })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("the answer broke off ({e})"))?;
    if !status.is_success() {
        return Err(format!("answered HTTP {}", status.as_u16()));
    }
    provider.parse(&body, currency)
}

/// The provider list as stored: comma-separated ids.
pub fn providers_column(providers: &[Provider]) -> String {
    providers
        .iter()
        .map(|p| p.id())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads a stored provider list (unknown ids, from a later version, are skipped).
pub fn parse_providers_column(text: &str) -> Vec<Provider> {
    text.split(',').filter_map(|id| id.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use axum::extract::{Path, State};
    use axum::response::{IntoResponse, Response};

    /// How a stand-in provider answers.
    #[derive(Clone)]
    enum Mode {
        Price(&'static str),
        Slow,
        Garbage,
        Down,
    }

    type Modes = Arc<Mutex<BTreeMap<Provider, Mode>>>;

    /// The answer of `provider` for a price, in its own documented format.
    fn body(provider: Provider, price: &str, currency: &str) -> String {
        let lower = currency.to_ascii_lowercase();
        match provider {
            Provider::Coinbase => {
                format!(r#"{{"data":{{"amount":"{price}","base":"BTC","currency":"{currency}"}}}}"#)
            }
            Provider::Kraken => format!(
                r#"{{"error":[],"result":{{"XXBTZ{currency}":{{"a":["{price}","1","1.000"],"b":["{price}","1","1.000"],"c":["{price}","0.01"],"v":["1","1"],"p":["1","1"],"t":[1,1],"l":["1","1"],"h":["1","1"],"o":"1"}}}}}}"#
            ),
            Provider::Bitstamp => format!(
                r#"{{"timestamp":"1701000000","open":"1","high":"1","low":"1","last":"{price}","volume":"1","vwap":"1","bid":"1","ask":"1","side":"0","open_24":"1","percent_change_24":"0"}}"#
            ),
            Provider::Coingecko => format!(r#"{{"bitcoin":{{"{lower}":{price}}}}}"#),
        }
    }

    async fn answer(
        State(modes): State<Modes>,
        Path((who, _rest)): Path<(String, String)>,
        uri: axum::http::Uri,
    ) -> Response {
        let Ok(provider) = who.parse::<Provider>() else {
            return axum::http::StatusCode::NOT_FOUND.into_response();
        };
        // The currency asked for, wherever this provider's request puts it.
        let asked = uri.to_string().to_ascii_uppercase();
        let currency = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY"]
            .into_iter()
            .find(|c| asked.contains(c))
            .unwrap_or("EUR");
        let mode = modes.lock().ok().and_then(|m| m.get(&provider).cloned());
        match mode {
            Some(Mode::Price(p)) => body(provider, p, currency).into_response(),
            Some(Mode::Slow) => {
                tokio::time::sleep(FETCH_TIMEOUT * 2).await;
                body(provider, "68300", currency).into_response()
            }
            Some(Mode::Garbage) => "<html>Too many requests, slow down</html>".into_response(),
            Some(Mode::Down) | None => axum::http::StatusCode::BAD_GATEWAY.into_response(),
        }
    }

    /// One loopback server standing in for all four providers, each under its own path.
    async fn stand_ins(modes: &Modes) -> std::io::Result<RatesConfig> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .route("/{who}/{*rest}", axum::routing::get(answer))
            .with_state(modes.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(RatesConfig {
            urls: ALL
                .iter()
                .map(|p| (*p, format!("http://{addr}/{}", p.id())))
                .collect(),
            max_age: Duration::from_secs(300),
            refresh: Duration::ZERO,
        })
    }

    fn set(modes: &Modes, list: [(Provider, Mode); 4]) {
        if let Ok(mut m) = modes.lock() {
            m.extend(list);
        }
    }

    fn status(view: &RatesView, p: Provider) -> ProviderStatus {
        view.providers
            .iter()
            .find(|v| v.id == p.id())
            .map(|v| v.status)
            .unwrap_or(ProviderStatus::Idle)
    }

    #[tokio::test]
    async fn the_rate_survives_slow_garbage_and_outlying_providers() -> Result<()> {
        use Provider::*;
        let modes = Modes::default();
        let config = stand_ins(&modes)
            .await
            .map_err(|e| Error::Config(e.to_string()))?;
        let service = RateService::new(config);

        // All fine: the median of four (the mean of the middle two).
        set(
            &modes,
            [
                (Coinbase, Mode::Price("68300.00")),
                (Kraken, Mode::Price("68310.10")),
                (Bitstamp, Mode::Price("68290")),
                (Coingecko, Mode::Price("68305.5")),
            ],
        );
        let rate = service.rate("eur").await?;
        assert_eq!(rate.per_btc.to_string(), "68302.75");
        assert_eq!(
            rate.sources,
            ["bitstamp", "coinbase", "coingecko", "kraken"]
        );

        // One slow (past the timeout), one garbage, one far off: the one good quote left and the
        // last good quotes of the slow and garbage ones (still fresh) make the rate; the outlier
        // never does.
        set(
            &modes,
            [
                (Coinbase, Mode::Price("68400")),
                (Kraken, Mode::Garbage),
                (Bitstamp, Mode::Price("95000")),
                (Coingecko, Mode::Slow),
            ],
        );
        let started = std::time::Instant::now();
        let rate = service.rate("EUR").await?;
        assert!(
            started.elapsed() < FETCH_TIMEOUT * 2,
            "a slow provider is cut off"
        );
        assert_eq!(
            rate.sources,
            ["coinbase", "coingecko", "kraken"],
            "the outlier is dropped"
        );
        assert_eq!(rate.per_btc.to_string(), "68310.10");
        let view = service.view(Some("EUR")).await?;
        assert_eq!(status(&view, Kraken), ProviderStatus::Failed);
        assert_eq!(status(&view, Coingecko), ProviderStatus::Failed);
        assert_eq!(status(&view, Bitstamp), ProviderStatus::Ok);
        let kraken = view.providers.iter().find(|p| p.id == "kraken");
        assert!(
            kraken
                .and_then(|p| p.error.as_deref())
                .is_some_and(|e| e.contains("not the expected JSON")),
            "{kraken:?}"
        );

        // A provider the merchant turned off does not count, and one that does not quote the
        // currency is not asked. Two left that disagree wildly: no rate rather than a guess.
        service.set_choice(Some("EUR".into()), vec![Coinbase, Bitstamp]);
        let view = service.view(None).await?;
        assert_eq!(status(&view, Kraken), ProviderStatus::Disabled);
        assert_eq!(view.currency.as_deref(), Some("EUR"));
        assert!(view.rate.is_none());
        assert!(
            view.error
                .as_deref()
                .is_some_and(|e| e.contains("disagree")),
            "{view:?}"
        );
        let err = service.rate("EUR").await.err().map(|e| e.code());
        assert_eq!(err, Some(ErrorCode::RateUnavailable));
        let view = service.view(Some("JPY")).await?;
        assert_eq!(status(&view, Bitstamp), ProviderStatus::Unsupported);
        Ok(())
    }

    #[tokio::test]
    async fn all_down_and_a_stale_cache_give_no_rate() -> Result<()> {
        use Provider::*;
        let modes = Modes::default();
        let mut config = stand_ins(&modes)
            .await
            .map_err(|e| Error::Config(e.to_string()))?;
        config.max_age = Duration::from_millis(1500);
        let service = RateService::new(config);

        // All down from the start.
        let err = service.rate("USD").await.err();
        assert_eq!(
            err.as_ref().map(Error::code),
            Some(ErrorCode::RateUnavailable)
        );
        assert!(err.is_some_and(|e| e.to_string().contains("did not answer")));

        // Up, then all down: the cache serves while it is fresh, and not a moment longer.
        set(
            &modes,
            [
                (Coinbase, Mode::Price("60000")),
                (Kraken, Mode::Price("60010")),
                (Bitstamp, Mode::Price("60020")),
                (Coingecko, Mode::Price("60030")),
            ],
        );
        tokio::time::sleep(Duration::from_millis(RETRY_AFTER_MS as u64 + 100)).await;
        assert_eq!(service.rate("USD").await?.per_btc.to_string(), "60015");
        set(
            &modes,
            [
                (Coinbase, Mode::Down),
                (Kraken, Mode::Down),
                (Bitstamp, Mode::Down),
                (Coingecko, Mode::Garbage),
            ],
        );
        assert_eq!(
            service.rate("USD").await?.per_btc.to_string(),
            "60015",
            "cached"
        );
        assert!(service.cached("USD").is_some());
        tokio::time::sleep(Duration::from_millis(1600)).await;
        let err = service.rate("USD").await.err().map(|e| e.code());
        assert_eq!(err, Some(ErrorCode::RateUnavailable), "stale");
        assert!(service.cached("USD").is_none());
        Ok(())
    }

    #[tokio::test]
    async fn nothing_is_fetched_in_sats_only_mode() -> Result<()> {
        let modes = Modes::default();
        let config = stand_ins(&modes)
            .await
            .map_err(|e| Error::Config(e.to_string()))?;
        let service = RateService::new(config);
        let stop = CancellationToken::new();
        let running = tokio::spawn(service.clone().run(stop.clone()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let view = service.view(None).await?;
        assert_eq!(view.currency, None);
        assert!(
            view.providers
                .iter()
                .all(|p| p.status == ProviderStatus::Idle),
            "{view:?}"
        );
        assert!(service.state().rounds.is_empty(), "no round ran");
        // Choosing a currency starts the background refresh.
        service.set_choice(Some("GBP".into()), ALL.to_vec());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(service.state().rounds.contains_key("GBP"));
        stop.cancel();
        let _ = running.await;
        Ok(())
    }
}
