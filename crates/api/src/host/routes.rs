//! The first-run setup over HTTP: `/v1/setup` (where the host is, and the admin key once a
//! wallet runs), `/v1/setup/profile` (choose or switch wallets), `/v1/setup/words` (new recovery
//! words) and `/v1/setup/wallet` (confirm them, or restore from the merchant's own). Every route
//! needs the host's token as `Authorization: Bearer …`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::{Json, Router};
use payaiml_core::profile::{self, Profile};
use payaiml_core::seed::{self, Origin};
use payaiml_core::{App, ErrorCode};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_http::services::{ServeDir, ServeFile};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{HostShared, PendingWords, Phase};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::ApiJson;

type Shared = Arc<HostShared>;

fn api() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(choose_profile))
        .routes(routes!(new_words))
        .routes(routes!(make_wallet))
        .routes(routes!(restart))
        .routes(routes!(export_wallet))
        .routes(routes!(import_wallet))
}

/// The setup routes' part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The setup routes, for the API of a wallet that runs under the host (status and switching).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(shared: Shared) -> Router<S> {
    let (router, _) = api().split_for_parts();
    router.with_state(shared)
}

/// The whole server of the setup phase: the setup routes, the dashboard's files when a folder is
/// given, and `503 setup_required` for the rest of the API, behind the API's own guard.
pub(crate) fn setup_router(shared: Shared, bound: SocketAddr, options: &crate::Options) -> Router {
    let guard = crate::safety::Guard::new(
        bound,
        &shared.settings.chain.allow_hosts,
        options.allowed_origins.clone(),
    );
    let mut router: Router = routes(shared);
    if let Some(dir) = &options.ui_dir {
        router = router
            .route_service("/", ServeFile::new(dir.join("index.html")))
            .nest_service("/assets", ServeDir::new(dir.join("assets")));
    }
    let router = router
        .fallback(setup_required)
        .method_not_allowed_fallback(crate::safety::method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::json::BODY_LIMIT,
        ));
    guard.wrap(router)
}

async fn setup_required(uri: axum::http::Uri) -> ApiError {
    if !uri.path().starts_with("/v1/") {
        return ApiError::new(ErrorCode::NotFound, format!("nothing at {}", uri.path()));
    }
    ApiError::new(
        ErrorCode::SetupRequired,
        "this app has no wallet running yet: finish the first-run setup in the app (or open the \
         link `payaimld app` printed)",
    )
}

/// The caller holds the host's token.
struct HostAuth;

impl FromRequestParts<Shared> for HostAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, shared: &Shared) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            None => Err(ApiError::new(
                ErrorCode::MissingApiKey,
                "the setup needs the app's own token: use the desktop app, or the link \
                 `payaimld app` printed",
            )),
            Some(token) if bool::from(token.as_bytes().ct_eq(shared.token.as_bytes())) => {
                // Locked to the point of sale, the token only reads where things stand: the
                // dashboard in the cashier's hands must not switch, export or restart wallets.
                let locked = shared
                    .status()
                    .app
                    .is_some_and(|app| app.cashier().is_locked());
                if locked && parts.uri.path() != "/v1/setup" {
                    return Err(ApiError::new(
                        ErrorCode::CashierLocked,
                        "the app is locked to the point of sale: unlock it with the owner's PIN \
                         first",
                    ));
                }
                Ok(HostAuth)
            }
            Some(_) => Err(ApiError::new(
                ErrorCode::InvalidApiKey,
                "this is not the app's setup token (it changes at every start): open the link \
                 the app printed this time",
            )),
        }
    }
}

/// Where the first-run setup stands.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupStatus {
    /// The host's phase.
    pub phase: Phase,
    /// The chosen wallet, if any.
    pub profile: Option<Profile>,
    /// Why the chosen wallet could not start (`failed` phase).
    pub message: Option<String>,
    /// The running wallet's admin key (`ready` phase only, and not while it is locked to the
    /// point of sale), for the dashboard.
    pub admin_key: Option<String>,
    /// The cashier's key, while the running wallet is locked to the point of sale: the
    /// dashboard works with it until the owner's PIN unlocks it.
    pub cashier_key: Option<String>,
    /// The wallets this app can run.
    pub wallets: Vec<WalletChoice>,
    /// The file the last export from Settings wrote, if any.
    pub exported: Option<ExportedFile>,
}

/// A wallet's export file.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExportedFile {
    /// Where it is.
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// One wallet the merchant can choose.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WalletChoice {
    /// Which.
    pub profile: Profile,
    /// Whether it moves real money (only `bitcoin` does).
    pub real_money: bool,
    /// Whether its data dir has something in it (it ran before, or has its words).
    pub has_data: bool,
    /// Whether it can be chosen with this app's settings.
    pub available: bool,
    /// Why not, when it cannot.
    pub note: Option<String>,
}

fn status_of(shared: &HostShared) -> SetupStatus {
    let status = shared.status();
    let wallets = Profile::ALL
        .into_iter()
        .map(|p| {
            let note = (p == Profile::Regtest && !shared.settings.chain.has_chain_source())
                .then(|| Profile::REGTEST_NEEDS.to_string());
            WalletChoice {
                profile: p,
                real_money: p == Profile::Bitcoin,
                has_data: shared.has_data(p),
                available: note.is_none(),
                note,
            }
        })
        .collect();
    SetupStatus {
        phase: status.phase,
        profile: status.profile,
        message: status.message,
        admin_key: status.admin_key.filter(|_| status.phase == Phase::Ready),
        cashier_key: None,
        wallets,
        exported: status.exported.map(|(file, bytes)| ExportedFile {
            file: file.display().to_string(),
            bytes,
        }),
    }
}

/// Where the first-run setup stands, and the running wallet's admin key once it is ready.
#[utoipa::path(get, path = "/v1/setup", tag = "setup",
    responses((status = 200, body = SetupStatus), (status = "4XX", body = ErrorBody)))]
async fn status(
    State(shared): State<Shared>,
    _: HostAuth,
) -> ([(header::HeaderName, &'static str); 1], Json<SetupStatus>) {
    if !shared.seen.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::info!("the setup screen connected");
    }
    let mut answer = status_of(&shared);
    if let Some(app) = shared.status().app.filter(|a| a.cashier().is_locked()) {
        answer.admin_key = None;
        answer.cashier_key = app.cashier().cashier_key().await.ok();
    }
    ([(header::CACHE_CONTROL, "no-store")], Json(answer))
}

/// The wallet to run.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseProfile {
    /// Which wallet.
    pub profile: Profile,
}

/// Choose the wallet to run, at first start or later from Settings. The choice is kept. A
/// sandbox, or a real wallet that has its words, starts straight away (the one running stops
/// first; its data stays); a real wallet without words waits for `/v1/setup/words` or a restore.
#[utoipa::path(post, path = "/v1/setup/profile", tag = "setup", request_body = ChooseProfile,
    responses((status = 202, body = SetupStatus), (status = "4XX", body = ErrorBody)))]
async fn choose_profile(
    State(shared): State<Shared>,
    _: HostAuth,
    body: ApiJson<ChooseProfile>,
) -> ApiResult<(StatusCode, Json<SetupStatus>)> {
    let chosen = body.value.profile;
    let now = shared.status();
    if now.phase == Phase::Starting {
        return Err(ApiError::new(
            ErrorCode::SetupConflict,
            "a wallet is starting; wait until it is ready, then choose again",
        ));
    }
    if chosen == Profile::Regtest && !shared.settings.chain.has_chain_source() {
        return Err(ApiError::bad_field("profile", Profile::REGTEST_NEEDS));
    }
    let unchanged = now.profile == Some(chosen) && now.phase == Phase::Ready;
    if !unchanged {
        profile::save_choice(&shared.home, chosen)?;
        if let Ok(mut pending) = shared.pending.lock() {
            *pending = None;
        }
        tracing::info!(profile = chosen.as_str(), "wallet chosen");
        // What the cycle will most likely do next, so the answer already shows the choice; the
        // cycle sets the phase it really reaches.
        let next = if chosen.is_sandbox() || shared.has_data(chosen) {
            Phase::Starting
        } else {
            Phase::Setup
        };
        shared.begin(next, Some(chosen));
    }
    Ok((StatusCode::ACCEPTED, Json(status_of(&shared))))
}

/// Restart the running wallet (its node stops cleanly and starts again), for settings that
/// apply at the node's start, such as the LSP.
#[utoipa::path(post, path = "/v1/setup/restart", tag = "setup",
    responses((status = 202, body = SetupStatus), (status = "4XX", body = ErrorBody)))]
async fn restart(
    State(shared): State<Shared>,
    _: HostAuth,
) -> ApiResult<(StatusCode, Json<SetupStatus>)> {
    let now = shared.status();
    if now.phase != Phase::Ready {
        return Err(ApiError::new(
            ErrorCode::SetupConflict,
            "no wallet is running to restart",
        ));
    }
    tracing::info!("restarting the wallet");
    shared.begin(Phase::Starting, now.profile);
    Ok((StatusCode::ACCEPTED, Json(status_of(&shared))))
}

/// The passphrase of an export.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportWallet {
    /// At least 10 characters; it opens the file on the other computer.
    #[schema(min_length = 10)]
    pub passphrase: String,
}

/// Move the running wallet to another computer: it stops, everything is written to one file
/// encrypted with the passphrase (in the home folder's `exports/`), read back, and this copy is
/// retired for good. `202`; `GET /v1/setup` then shows the file (`exported`), or why it failed
/// (the wallet then starts again, unchanged).
#[utoipa::path(post, path = "/v1/setup/export", tag = "setup", request_body = ExportWallet,
    responses((status = 202, body = SetupStatus), (status = "4XX", body = ErrorBody)))]
async fn export_wallet(
    State(shared): State<Shared>,
    _: HostAuth,
    body: ApiJson<ExportWallet>,
) -> ApiResult<(StatusCode, Json<SetupStatus>)> {
    let now = shared.status();
    if now.phase != Phase::Ready {
        return Err(ApiError::new(
            ErrorCode::SetupConflict,
            "no wallet is running to export",
        ));
    }
    let passphrase = body.value.passphrase;
    if passphrase.chars().count() < payaiml_core::moving::MIN_PASSPHRASE {
        return Err(ApiError::bad_field(
            "passphrase",
            format!(
                "choose a passphrase of at least {} characters: the file holds the wallet's keys",
                payaiml_core::moving::MIN_PASSPHRASE
            ),
        ));
    }
    if let Ok(mut export) = shared.export.lock() {
        *export = Some(passphrase);
    }
    tracing::info!("exporting the wallet");
    shared.begin(Phase::Starting, now.profile);
    Ok((StatusCode::ACCEPTED, Json(status_of(&shared))))
}

/// A wallet's export file on this computer, and its passphrase.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportWallet {
    /// The file's path on this computer.
    pub file: String,
    /// Its passphrase.
    pub passphrase: String,
}

/// Bring a wallet moved from another computer (an export file) into this app: it goes to its
/// network's data dir here, which must be empty, becomes the chosen wallet and starts. A wrong
/// passphrase or a damaged file is a `400` and changes nothing.
#[utoipa::path(post, path = "/v1/setup/import", tag = "setup", request_body = ImportWallet,
    responses((status = 202, body = SetupStatus), (status = "4XX", body = ErrorBody)))]
async fn import_wallet(
    State(shared): State<Shared>,
    _: HostAuth,
    body: ApiJson<ImportWallet>,
) -> ApiResult<(StatusCode, Json<SetupStatus>)> {
    let now = shared.status();
    if matches!(now.phase, Phase::Ready | Phase::Starting) {
        return Err(ApiError::new(
            ErrorCode::SetupConflict,
            "a wallet runs: import from the setup screen (switch away from it, or export it, first)",
        ));
    }
    let file = std::path::PathBuf::from(body.value.file.trim());
    if !file.is_file() {
        return Err(ApiError::bad_field(
            "file",
            format!("there is no file at {}", file.display()),
        ));
    }
    let kind = payaiml_core::moving::kind_of(&file, &body.value.passphrase).await?;
    let profile = match (kind.sandbox, kind.network) {
        (true, _) => Profile::Sandbox,
        (false, payaiml_core::Network::Bitcoin) => Profile::Bitcoin,
        (false, payaiml_core::Network::Testnet) => Profile::Testnet,
        (false, payaiml_core::Network::Signet) => Profile::Signet,
        (false, payaiml_core::Network::Regtest) => Profile::Regtest,
    };
    let (_, _, config) = shared
        .config_of(profile)
        .map_err(|e| ApiError::bad_field("file", e))?;
    let imported = payaiml_core::moving::import(&config, &file, &body.value.passphrase)
        .await
        .map_err(|e| match e.code() {
            // Said to the merchant (a data dir in the way, another network), not hidden as a
            // server fault.
            ErrorCode::InvalidConfig => ApiError::bad_field("file", e.to_string()),
            _ => e.into(),
        })?;
    profile::save_choice(&shared.home, profile)?;
    tracing::info!(profile = profile.as_str(), missing_secrets = ?imported.missing_secrets, "wallet imported");
    shared.begin(Phase::Starting, Some(profile));
    Ok((StatusCode::ACCEPTED, Json(status_of(&shared))))
}

/// New recovery words to write down.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewWords {
    /// The wallet they are for.
    pub profile: Profile,
    /// The 24 words, in order.
    pub words: Vec<String>,
    /// The three positions (1-based) to type back in `/v1/setup/wallet`.
    pub confirm_positions: Vec<usize>,
}

/// The chosen real wallet, waiting for its words; else why not.
fn wallet_waiting_for_words(shared: &HostShared) -> ApiResult<Profile> {
    let now = shared.status();
    match now.profile {
        Some(p) if !p.is_sandbox() && now.phase == Phase::Setup => Ok(p),
        Some(p) if p.is_sandbox() => Err(ApiError::new(
            ErrorCode::SetupConflict,
            "the sandbox makes its own wallet: it needs no recovery words",
        )),
        None => Err(ApiError::new(
            ErrorCode::SetupConflict,
            "choose a wallet first (POST /v1/setup/profile)",
        )),
        Some(p) => Err(ApiError::new(
            ErrorCode::SetupConflict,
            format!("the {} wallet already has its words", p.as_str()),
        )),
    }
}

/// New recovery words for the chosen real wallet, shown once: they are kept in memory only until
/// the merchant types back the three asked for (`/v1/setup/wallet`). Asking again makes other
/// words. Never cached, never logged.
#[utoipa::path(post, path = "/v1/setup/words", tag = "setup",
    responses((status = 200, body = NewWords), (status = "4XX", body = ErrorBody)))]
async fn new_words(
    State(shared): State<Shared>,
    _: HostAuth,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Json<NewWords>)> {
    let profile = wallet_waiting_for_words(&shared)?;
    let words = seed::new_words();
    let list: Vec<String> = words.words().map(str::to_string).collect();
    let ask = seed::positions_to_confirm(list.len());
    let mut pending = shared
        .pending
        .lock()
        .map_err(|_| ApiError::internal("the setup state is poisoned"))?;
    *pending = Some(PendingWords {
        profile,
        words,
        ask,
    });
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(NewWords {
            profile,
            words: list,
            confirm_positions: ask.to_vec(),
        }),
    ))
}

/// One word typed back.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmWord {
    /// Its position (1-based), as asked.
    pub position: usize,
    /// The word.
    pub word: String,
}

/// Make the chosen wallet: either `confirm` (the three words asked for, after
/// `/v1/setup/words`) or `words` (the merchant's own recovery words, to restore).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakeWallet {
    /// The words asked for by `/v1/setup/words`, typed back.
    pub confirm: Option<Vec<ConfirmWord>>,
    /// Recovery words to restore from (12 to 24, separated by spaces).
    pub words: Option<String>,
    /// Where this wallet's channel state is backed up: a VSS server's URL (`http://host:port/vss`)
    /// or an absolute folder path. With `words`, the restore brings the channels back from it
    /// (`503 backup_unavailable` if it holds nothing for these words, and nothing is made); with
    /// `confirm`, the new wallet is backed up there from its first start.
    #[schema(max_length = 1000)]
    pub backup: Option<String>,
    /// The bearer token the VSS server expects, if it checks one.
    #[schema(max_length = 4096)]
    pub backup_token: Option<String>,
    /// Sign requests to the VSS server with a JWT of the wallet's own key (vss-server's JWT mode;
    /// the server must have been given the key's public half: `payaimld backup-key`).
    pub backup_jwt: Option<bool>,
}

/// Make the chosen real wallet from the new words (confirmed) or from the merchant's own
/// (restored); it then starts. A wrong confirmation word, a word not in the BIP39 list, a bad
/// checksum or a wrong count is a 400 that names it, and nothing is made.
#[utoipa::path(post, path = "/v1/setup/wallet", tag = "setup", request_body = MakeWallet,
    responses((status = 202, body = SetupStatus), (status = "4XX", body = ErrorBody)))]
async fn make_wallet(
    State(shared): State<Shared>,
    _: HostAuth,
    body: ApiJson<MakeWallet>,
) -> ApiResult<(StatusCode, Json<SetupStatus>)> {
    let profile = wallet_waiting_for_words(&shared)?;
    let (words, origin) =
        match (body.value.confirm, body.value.words) {
            (Some(typed), None) => (confirmed_words(&shared, profile, &typed)?, Origin::New),
            (None, Some(text)) => (seed::parse_recovery_words(&text)?, Origin::Restored),
            _ => return Err(ApiError::new(
                ErrorCode::InvalidBody,
                "give either confirm (the three words asked for) or words (to restore), not both",
            )),
        };
    let (_, _, mut config) = shared
        .config_of(profile)
        .map_err(|e| ApiError::new(ErrorCode::InvalidConfig, e))?;
    if let Some(text) = body
        .value
        .backup
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let target = payaiml_core::backup::TargetConfig::parse(text)
            .map_err(|e| ApiError::bad_field("backup", e.to_string()))?;
        config.backup = Some(target.with_auth(
            body.value.backup_token.clone(),
            body.value.backup_jwt.unwrap_or(false),
        ));
    }
    App::init(&config, &words, origin).await?;
    if let Ok(mut pending) = shared.pending.lock() {
        *pending = None;
    }
    tracing::info!(
        profile = profile.as_str(),
        restored = origin == Origin::Restored,
        "wallet made"
    );
    shared.begin(Phase::Starting, Some(profile));
    Ok((StatusCode::ACCEPTED, Json(status_of(&shared))))
}

/// The pending words, if the three typed back match them.
fn confirmed_words(
    shared: &HostShared,
    profile: Profile,
    typed: &[ConfirmWord],
) -> ApiResult<payaiml_core::ldk_node::bip39::Mnemonic> {
    let pending = shared
        .pending
        .lock()
        .map_err(|_| ApiError::internal("the setup state is poisoned"))?;
    let Some(pending) = pending.as_ref().filter(|p| p.profile == profile) else {
        return Err(ApiError::new(
            ErrorCode::SetupConflict,
            "ask for new words first (POST /v1/setup/words), write them down, then type back \
             the three asked for",
        ));
    };
    let words: Vec<&str> = pending.words.words().collect();
    for position in pending.ask {
        let Some(entry) = typed.iter().find(|t| t.position == position) else {
            return Err(ApiError::bad_field(
                "confirm",
                format!(
                    "type word {position} too (the words asked for are {:?})",
                    pending.ask
                ),
            ));
        };
        let expected = words.get(position - 1).copied().unwrap_or_default();
        if !entry.word.trim().eq_ignore_ascii_case(expected) {
            return Err(ApiError::bad_field(
                "confirm",
                format!(
                    "word {position} is not '{}': check it against what you wrote down",
                    entry.word.trim()
                ),
            ));
        }
    }
    Ok(pending.words.clone())
}
