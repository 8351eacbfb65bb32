//! Receiving: creating invoices on the node and recording them.

use ldk_node::lightning_invoice::{Bolt11InvoiceDescription, Description};

use crate::app::App;
use crate::error::{Error, Result};
use crate::invoices::{self, CreateInvoice, Invoice, NewInvoiceRow};
use crate::util::{new_id, now_ms};

impl App {
    /// Creates an invoice on the node and records it. `key_id` is the API key that asked.
    pub async fn create_invoice(
        &self,
        request: CreateInvoice,
        key_id: Option<&str>,
    ) -> Result<Invoice> {
        let valid = request.validate()?;
        let node = self.node.get()?;
        let description = Description::new(valid.description.clone()).map_err(|e| {
            Error::invalid(
                "description",
                format!("description is not allowed in an invoice: {e}"),
            )
        })?;
        let description = Bolt11InvoiceDescription::Direct(description);
        // `receive` writes ldk-node's store synchronously: off the async workers, which LDK's
        // background processor shares (it persists the ChannelManager there, and every delay
        // widens the window a crash can leave the manager behind a monitor in).
        let (amount_msat, expiry) = (valid.amount_msat, valid.expiry);
        let invoice = tokio::task::spawn_blocking(move || {
            let bolt11 = node.bolt11_payment();
            match amount_msat {
                Some(msat) => bolt11.receive(msat, &description, expiry),
                None => bolt11.receive_variable_amount(&description, expiry),
            }
        })
        .await
        .map_err(|e| Error::Node(format!("invoice task failed: {e}")))?
        .map_err(|e| Error::Node(crate::node::explain(&e)))?;
        let id = new_id("inv");
        // The node's invoice timestamp has second precision; use ours (ms) for ordering, and the
        // invoice's own expiry arithmetic stays with the node.
        invoices::insert(
            &self.store,
            NewInvoiceRow {
                id: &id,
                payment_hash: &invoice.payment_hash().to_string(),
                payment_request: &invoice.to_string(),
                valid: &valid,
                created_at: now_ms(),
                key_id,
            },
        )
        .await?;
        self.wake_expiry.notify_one();
        invoices::get(&self.store, &id).await
    }
}
