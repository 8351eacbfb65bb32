//! Where sealed objects go: a VSS server or a folder on another device. Both hold the same
//! objects (an opaque name, a sealed value) under the wallet's store id, so a backup can be moved
//! from one kind to the other by copying objects.
//!
//! Every call is one attempt with a short timeout: the mirror (`super::mirror`) decides what to do
//! when the target is away (keep the change queued, show the gap, retry), not the client.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vss_client::client::VssClient;
use vss_client::error::VssError;
use vss_client::headers::{FixedHeaders, VssHeaderProvider, VssHeaderProviderError};
use vss_client::types::{
    DeleteObjectRequest, GetObjectRequest, KeyValue, ListKeyVersionsRequest, PutObjectRequest,
};
use vss_client::util::retry::{ExponentialBackoffRetryPolicy, MaxAttemptsRetryPolicy, RetryPolicy};

use super::config::TargetConfig;
use super::seal::Sealer;
use crate::error::{Error, Result};

/// How long one call to a VSS server may take before the target counts as away.
const VSS_TIMEOUT: Duration = Duration::from_secs(5);

type Retry = MaxAttemptsRetryPolicy<ExponentialBackoffRetryPolicy<VssError>>;

/// An opened target, for one wallet's store id.
pub enum Target {
    /// A VSS server.
    Vss {
        /// The client (one attempt per call; see the module's doc).
        client: VssClient<Retry>,
        /// The wallet's store id.
        store_id: String,
    },
    /// `<folder>/<store id>/`, one file per object.
    Folder {
        /// The wallet's own sub-folder.
        dir: PathBuf,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Vss { client, store_id } => f
                .debug_struct("Vss")
                .field("url", &client.base_url())
                .field("store_id", store_id)
                .finish(),
            Target::Folder { dir } => f.debug_struct("Folder").field("dir", dir).finish(),
        }
    }
}

impl Target {
    /// Opens `config` for the wallet `sealer` seals for. Nothing is contacted yet.
    pub fn open(config: &TargetConfig, sealer: &Sealer) -> Result<Target> {
        let store_id = sealer.store_id();
        match config {
            TargetConfig::Vss { url, token, jwt } => {
                let mut headers = std::collections::HashMap::new();
                if let Some(token) = token {
                    headers.insert("Authorization".to_string(), format!("Bearer {token}"));
                }
                let headers: Arc<dyn VssHeaderProvider> = if *jwt {
                    Arc::new(JwtHeaders {
                        // Made now, so a key that cannot be made fails here, not mid-request.
                        sealer: {
                            sealer.jwt_key()?;
                            sealer.clone()
                        },
                        current: std::sync::Mutex::new(None),
                    })
                } else {
                    Arc::new(FixedHeaders::new(headers))
                };
                let http = vss_client::reqwest::Client::builder()
                    .timeout(VSS_TIMEOUT)
                    .connect_timeout(VSS_TIMEOUT)
                    .build()
                    .map_err(|e| Error::Backup(format!("cannot make an HTTP client: {e}")))?;
                let retry = ExponentialBackoffRetryPolicy::new(Duration::from_millis(50))
                    .with_max_attempts(1);
                Ok(Target::Vss {
                    client: VssClient::from_client_and_headers(
                        url.trim_end_matches('/').to_string(),
                        http,
                        retry,
                        headers,
                    ),
                    store_id: store_id.to_string(),
                })
            }
            TargetConfig::Folder { path } => Ok(Target::Folder {
                dir: path.join(store_id),
            }),
        }
    }

    /// Stores `value` as `object`, replacing what was there. Returns once the target holds it
    /// durably (the server's commit; the file and its folder synced).
    pub async fn put(&self, object: &str, value: Vec<u8>) -> Result<()> {
        match self {
            Target::Vss { client, store_id } => {
                let request = PutObjectRequest {
                    store_id: store_id.clone(),
                    global_version: None,
                    // -1: no version check. The mirror alone writes this store, in order.
                    transaction_items: vec![KeyValue {
                        key: object.to_string(),
                        version: -1,
                        value,
                    }],
                    delete_items: vec![],
                };
                client.put_object(&request).await.map_err(vss_error)?;
                Ok(())
            }
            Target::Folder { dir } => {
                let (dir, object) = (dir.clone(), object.to_string());
                blocking(move || write_file(&dir, &object, &value)).await
            }
        }
    }

    /// The object's value, or `None` if the target has no such object.
    pub async fn get(&self, object: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Target::Vss { client, store_id } => {
                let request = GetObjectRequest {
                    store_id: store_id.clone(),
                    key: object.to_string(),
                };
                match client.get_object(&request).await {
                    Ok(answer) => Ok(answer.value.map(|kv| kv.value)),
                    Err(VssError::NoSuchKeyError(_)) => Ok(None),
                    Err(e) => Err(vss_error(e)),
                }
            }
            Target::Folder { dir } => {
                let path = dir.join(object);
                blocking(move || match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(folder_error(&path, e)),
                })
                .await
            }
        }
    }

    /// Removes the object (nothing if it is not there).
    pub async fn delete(&self, object: &str) -> Result<()> {
        match self {
            Target::Vss { client, store_id } => {
                let request = DeleteObjectRequest {
                    store_id: store_id.clone(),
                    key_value: Some(KeyValue {
                        key: object.to_string(),
                        version: -1,
                        value: vec![],
                    }),
                };
                client.delete_object(&request).await.map_err(vss_error)?;
                Ok(())
            }
            Target::Folder { dir } => {
                let path = dir.join(object);
                blocking(move || match std::fs::remove_file(&path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(folder_error(&path, e)),
                })
                .await
            }
        }
    }

    /// Every object name the target holds for this wallet.
    pub async fn list(&self) -> Result<Vec<String>> {
        match self {
            Target::Vss { client, store_id } => {
                let mut names = Vec::new();
                let mut page_token = None;
                loop {
                    let request = ListKeyVersionsRequest {
                        store_id: store_id.clone(),
                        key_prefix: None,
                        page_size: Some(1000),
                        page_token: page_token.take(),
                    };
                    let answer = client
                        .list_key_versions(&request)
                        .await
                        .map_err(vss_error)?;
                    let done = answer.key_versions.is_empty();
                    names.extend(answer.key_versions.into_iter().map(|kv| kv.key));
                    match answer.next_page_token.filter(|t| !t.is_empty()) {
                        Some(token) if !done => page_token = Some(token),
                        _ => break,
                    }
                }
                Ok(names)
            }
            Target::Folder { dir } => {
                let dir = dir.clone();
                blocking(move || {
                    let entries = match std::fs::read_dir(&dir) {
                        Ok(entries) => entries,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                        Err(e) => return Err(folder_error(&dir, e)),
                    };
                    let mut names = Vec::new();
                    for entry in entries {
                        let entry = entry.map_err(|e| folder_error(&dir, e))?;
                        let name = entry.file_name().to_string_lossy().into_owned();
                        // A half-written file of an interrupted put is not an object.
                        if !name.starts_with('.') {
                            names.push(name);
                        }
                    }
                    Ok(names)
                })
                .await
            }
        }
    }

    /// Where the backup goes, for people: the server's address or the folder (never a token).
    pub fn describe(&self) -> String {
        match self {
            Target::Vss { client, .. } => client.base_url().to_string(),
            Target::Folder { dir } => dir.parent().unwrap_or(dir.as_path()).display().to_string(),
        }
    }
}

/// How long each JWT is valid; a new one is signed when less than half of it is left.
const JWT_LIFETIME_SECS: u64 = 3_600;

/// Signs a JWT for each request from the wallet's own key (vss-server's JWT mode), reusing it
/// while it has more than half its life left.
struct JwtHeaders {
    sealer: Sealer,
    current: std::sync::Mutex<Option<(String, u64)>>,
}

#[async_trait::async_trait]
impl VssHeaderProvider for JwtHeaders {
    async fn get_headers(
        &self,
        _request: &[u8],
    ) -> std::result::Result<std::collections::HashMap<String, String>, VssHeaderProviderError>
    {
        let now = u64::try_from(crate::util::now_ms() / 1000).unwrap_or(0);
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let token = match current.as_ref() {
            Some((token, exp)) if *exp > now + JWT_LIFETIME_SECS / 2 => token.clone(),
            _ => {
                let token = self.sealer.jwt(now, JWT_LIFETIME_SECS).map_err(|e| {
                    VssHeaderProviderError::InternalError {
                        error: e.to_string(),
                    }
                })?;
                *current = Some((token.clone(), now + JWT_LIFETIME_SECS));
                token
            }
        };
        Ok(std::collections::HashMap::from([(
            "Authorization".to_string(),
            format!("Bearer {token}"),
        )]))
    }
}

/// Runs file work off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Backup(format!("a backup file task failed: {e}")))?
}

/// Writes `object` in `dir` so that a reader sees the old value or the new one, never a mix, and
/// the new one survives a power cut once this returns: a temporary file, synced, renamed over
/// the old one, and the folder synced.
fn write_file(dir: &Path, object: &str, value: &[u8]) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(|e| folder_error(dir, e))?;
    let path = dir.join(object);
    let temporary = dir.join(format!(".{object}.{}", std::process::id()));
    let mut file = std::fs::File::create(&temporary).map_err(|e| folder_error(&temporary, e))?;
    file.write_all(value)
        .and_then(|()| file.sync_all())
        .map_err(|e| folder_error(&temporary, e))?;
    drop(file);
    std::fs::rename(&temporary, &path).map_err(|e| folder_error(&path, e))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| folder_error(dir, e))
}

fn folder_error(path: &Path, e: std::io::Error) -> Error {
    Error::Backup(format!("the backup folder {}: {e}", path.display()))
}

fn vss_error(e: VssError) -> Error {
    Error::Backup(format!("the VSS server: {e}"))
}
