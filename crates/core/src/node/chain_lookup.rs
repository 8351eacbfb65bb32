//! One transaction, read from the node's chain source (bitcoind's JSON-RPC or an Esplora
//! server), for what ldk-node does not say of an on-chain payment: which addresses it paid. The
//! raw transaction is decoded here, so amounts are exact satoshis (bitcoind's verbose answer
//! gives them as JSON floats in BTC, which we never read).

use std::time::Duration;

use ldk_node::bitcoin::{BlockHash, Transaction, Txid};
use serde_json::{json, Value};

use crate::config::ChainSource;
use crate::error::{Error, Result};

/// A bitcoind JSON-RPC client with basic auth.
pub(crate) struct JsonRpc {
    client: reqwest::Client,
    base: String,
    user: String,
    password: String,
}

impl JsonRpc {
    /// A client of the server at `base` (`http://host:port`).
    pub(crate) fn new(base: String, user: &str, password: &str, timeout: Duration) -> JsonRpc {
        JsonRpc {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .no_proxy()
                .build()
                .unwrap_or_default(),
            base,
            user: user.to_string(),
            password: password.to_string(),
        }
    }

    /// Calls `method` at the server's root.
    pub(crate) async fn call(
        &self,
        method: &str,
        params: Value,
    ) -> std::result::Result<Value, String> {
        self.call_at("/", method, params).await
    }

    /// Calls `method` at `path` (a wallet: `/wallet/<name>`).
    pub(crate) async fn call_at(
        &self,
        path: &str,
        method: &str,
        params: Value,
    ) -> std::result::Result<Value, String> {
        let body = json!({"jsonrpc": "1.0", "id": "payaiml", "method": method, "params": params});
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password))
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("bitcoind {method}: {e}"))?;
        let value: Value = response
            .json()
            .await
            .map_err(|e| format!("bitcoind {method}: {e}"))?;
        match value.get("error") {
            Some(err) if !err.is_null() => Err(format!(
                "bitcoind {method}: {}",
                err.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
            )),
            _ => Ok(value.get("result").cloned().unwrap_or(Value::Null)),
        }
    }
}

/// Where transactions are read from: the node's own chain source.
pub(crate) enum ChainLookup {
    Rpc(JsonRpc),
    Esplora {
        client: reqwest::Client,
        base: String,
    },
}

impl ChainLookup {
    pub(crate) fn new(source: &ChainSource) -> ChainLookup {
        let timeout = Duration::from_secs(15);
        match source {
            ChainSource::BitcoindRpc {
                host,
                port,
                user,
                password,
            } => ChainLookup::Rpc(JsonRpc::new(
                format!("http://{host}:{port}"),
                user,
                password,
                timeout,
            )),
            ChainSource::Esplora { url } => ChainLookup::Esplora {
                client: reqwest::Client::builder()
                    .timeout(timeout)
                    .build()
                    .unwrap_or_default(),
                base: url.trim_end_matches('/').to_string(),
            },
        }
    }

    /// The height of the chain source's best block.
    pub(crate) async fn tip_height(&self) -> Result<u64> {
        let failed = |e: String| Error::Node(format!("cannot read the chain's height: {e}"));
        match self {
            ChainLookup::Rpc(rpc) => rpc
                .call("getblockcount", json!([]))
                .await
                .map_err(failed)?
                .as_u64()
                .ok_or_else(|| failed("no number in the answer".into())),
            ChainLookup::Esplora { client, base } => client
                .get(format!("{base}/blocks/tip/height"))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| failed(e.to_string()))?
                .text()
                .await
                .map_err(|e| failed(e.to_string()))?
                .trim()
                .parse()
                .map_err(|e: std::num::ParseIntError| failed(e.to_string())),
        }
    }

    /// Whether the output `txid:vout` is spent by a confirmed transaction. (bitcoind's
    /// `gettxout` without the mempool answers null for a spent output; Esplora's `outspend` says
    /// so directly.) An output that never existed also reads as spent: callers ask only about
    /// outputs they know were created.
    pub(crate) async fn output_spent(&self, txid: &Txid, vout: u32) -> Result<bool> {
        let failed = |e: String| Error::Node(format!("cannot read output {txid}:{vout}: {e}"));
        match self {
            ChainLookup::Rpc(rpc) => Ok(rpc
                .call("gettxout", json!([txid.to_string(), vout, false]))
                .await
                .map_err(failed)?
                .is_null()),
            ChainLookup::Esplora { client, base } => {
                let answer: serde_json::Value = client
                    .get(format!("{base}/tx/{txid}/outspend/{vout}"))
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| failed(e.to_string()))?
                    .json()
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                Ok(answer["spent"] == true && answer["status"]["confirmed"] == true)
            }
        }
    }

    /// The transaction `txid`, confirmed in `block` (bitcoind without a transaction index finds
    /// a confirmed transaction only by its block).
    pub(crate) async fn transaction(&self, txid: &Txid, block: &BlockHash) -> Result<Transaction> {
        let failed = |e: String| Error::Node(format!("cannot read transaction {txid}: {e}"));
        let hex = match self {
            ChainLookup::Rpc(rpc) => rpc
                .call(
                    "getrawtransaction",
                    json!([txid.to_string(), false, block.to_string()]),
                )
                .await
                .map_err(failed)?
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| failed("no transaction in the answer".into()))?,
            ChainLookup::Esplora { client, base } => {
                let response = client
                    .get(format!("{base}/tx/{txid}/hex"))
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| failed(e.to_string()))?;
                response.text().await.map_err(|e| failed(e.to_string()))?
            }
        };
        let bytes = hex::decode(hex.trim()).map_err(|e| failed(e.to_string()))?;
        let tx: Transaction =
            ldk_node::bitcoin::consensus::deserialize(&bytes).map_err(|e| failed(e.to_string()))?;
        if tx.compute_txid() != *txid {
            return Err(failed(
                "the chain source answered another transaction".into(),
            ));
        }
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldk_node::bitcoin::absolute::LockTime;
    use ldk_node::bitcoin::transaction::Version;
    use ldk_node::bitcoin::{Amount, ScriptBuf, TxOut};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An Esplora stand-in on loopback: every request is answered with `body` (as Esplora's
    /// `/tx/{txid}/hex` answers, the raw transaction in hex); returns its base URL.
    async fn esplora(body: String) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        base
    }

    fn tx(value: u64) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: Vec::new(),
            output: vec![TxOut {
                value: Amount::from_sat(value),
                script_pubkey: ScriptBuf::new_op_return([7u8; 4]),
            }],
        }
    }

    #[tokio::test]
    async fn esplora_answers_are_decoded_and_checked() {
        let wanted = tx(1234);
        let hex = ldk_node::bitcoin::consensus::encode::serialize_hex(&wanted);
        let block = BlockHash::from_raw_hash(ldk_node::bitcoin::hashes::Hash::all_zeros());
        let url = esplora(hex).await;
        let lookup = ChainLookup::new(&ChainSource::Esplora { url: url.clone() });
        let got = lookup
            .transaction(&wanted.compute_txid(), &block)
            .await
            .expect("read");
        assert_eq!(got.output[0].value.to_sat(), 1234);
        // A server that answers another transaction than the one asked is not believed.
        let other = tx(99).compute_txid();
        let refused = lookup.transaction(&other, &block).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("another transaction")),
            "{url}"
        );
    }
}
