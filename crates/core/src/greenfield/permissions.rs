//! BTCPay's permission names and how they map onto our keys' permissions.
//!
//! A key paired through `/api-keys/authorize` keeps the BTCPay permissions it was granted (table
//! `greenfield_keys`) and carries the /v1 permissions they need; any other key is seen by the
//! Greenfield API with the BTCPay permissions its /v1 permissions imply (see [`implied_by`]).
//! None of the permissions granted moves money: the subset has no payouts.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::keys::{ApiKey, Permission};

/// A BTCPay store permission the Greenfield-compatible API understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum GfPermission {
    /// Read invoices.
    #[serde(rename = "btcpay.store.canviewinvoices")]
    ViewInvoices,
    /// Create invoices.
    #[serde(rename = "btcpay.store.cancreateinvoice")]
    CreateInvoice,
    /// Mark invoices settled or invalid (and read and create them).
    #[serde(rename = "btcpay.store.canmodifyinvoices")]
    ModifyInvoices,
    /// Read the store and its payment methods.
    #[serde(rename = "btcpay.store.canviewstoresettings")]
    ViewStoreSettings,
    /// Register, change and remove the store's webhooks.
    #[serde(rename = "btcpay.store.webhooks.canmodifywebhooks")]
    ModifyWebhooks,
}

impl GfPermission {
    /// Every permission this API grants.
    pub const ALL: [GfPermission; 5] = [
        GfPermission::ViewInvoices,
        GfPermission::CreateInvoice,
        GfPermission::ModifyInvoices,
        GfPermission::ViewStoreSettings,
        GfPermission::ModifyWebhooks,
    ];

    /// BTCPay's name, e.g. `btcpay.store.canviewinvoices`.
    pub fn as_str(self) -> &'static str {
        match self {
            GfPermission::ViewInvoices => "btcpay.store.canviewinvoices",
            GfPermission::CreateInvoice => "btcpay.store.cancreateinvoice",
            GfPermission::ModifyInvoices => "btcpay.store.canmodifyinvoices",
            GfPermission::ViewStoreSettings => "btcpay.store.canviewstoresettings",
            GfPermission::ModifyWebhooks => "btcpay.store.webhooks.canmodifywebhooks",
        }
    }

    /// What the permission lets a shop plugin do, for the pairing page.
    pub fn describe(self) -> &'static str {
        match self {
            GfPermission::ViewInvoices => "See invoices and whether they are paid",
            GfPermission::CreateInvoice => "Create invoices for its orders",
            GfPermission::ModifyInvoices => "Mark its invoices settled or invalid by hand",
            GfPermission::ViewStoreSettings => "See the shop's name and payment methods",
            GfPermission::ModifyWebhooks => "Register webhooks to learn of payments",
        }
    }

    /// The BTCPay permission named `name`, ignoring a `:<storeId>` suffix (returned apart).
    pub fn parse(name: &str) -> Option<(GfPermission, Option<&str>)> {
        let (base, store) = match name.split_once(':') {
            Some((base, store)) => (base, Some(store)),
            None => (name, None),
        };
        GfPermission::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(base))
            .map(|p| (p, store))
    }

    /// The permissions this one includes, itself among them (BTCPay's policy tree, for the
    /// part this API grants: modifying invoices includes reading and creating them).
    pub fn includes(self) -> &'static [GfPermission] {
        match self {
            GfPermission::ModifyInvoices => &[
                GfPermission::ModifyInvoices,
                GfPermission::ViewInvoices,
                GfPermission::CreateInvoice,
            ],
            GfPermission::ViewInvoices => &[GfPermission::ViewInvoices],
            GfPermission::CreateInvoice => &[GfPermission::CreateInvoice],
            GfPermission::ViewStoreSettings => &[GfPermission::ViewStoreSettings],
            GfPermission::ModifyWebhooks => &[GfPermission::ModifyWebhooks],
        }
    }

    /// The /v1 permissions a key needs to do what this one allows (none: it is checked on the
    /// Greenfield side only, as with webhooks, which are BTCPay-format endpoints apart from
    /// the merchant's own).
    pub fn needs(self) -> &'static [Permission] {
        match self {
            GfPermission::ViewInvoices => &[Permission::LightningRead],
            GfPermission::CreateInvoice => &[Permission::LightningReceive],
            GfPermission::ModifyInvoices => {
                &[Permission::LightningRead, Permission::LightningReceive]
            }
            GfPermission::ViewStoreSettings | GfPermission::ModifyWebhooks => &[],
        }
    }
}

impl std::fmt::Display for GfPermission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The BTCPay permissions a key's /v1 permissions imply, for a key not paired through
/// `/api-keys/authorize` (one made in the dashboard, the admin key): reading invoices gives
/// `canviewinvoices` and `canviewstoresettings`; receiving gives `cancreateinvoice`; both give
/// `canmodifyinvoices`; managing keys and webhooks gives `webhooks.canmodifywebhooks`.
pub fn implied_by(key: &ApiKey) -> BTreeSet<GfPermission> {
    let mut out = BTreeSet::new();
    let read = key.allows(Permission::LightningRead);
    let receive = key.allows(Permission::LightningReceive);
    if read {
        out.extend([GfPermission::ViewInvoices, GfPermission::ViewStoreSettings]);
    }
    if receive {
        out.insert(GfPermission::CreateInvoice);
    }
    if read && receive {
        out.insert(GfPermission::ModifyInvoices);
    }
    if key.allows(Permission::KeysManage) {
        out.extend([
            GfPermission::ModifyWebhooks,
            GfPermission::ViewStoreSettings,
        ]);
    }
    out
}

/// Every permission `granted` includes (BTCPay's tree, see [`GfPermission::includes`]).
pub fn expand(granted: &BTreeSet<GfPermission>) -> BTreeSet<GfPermission> {
    granted
        .iter()
        .flat_map(|p| p.includes().iter().copied())
        .collect()
}

/// The /v1 permissions a paired key carries for `granted`.
pub fn v1_permissions(granted: &BTreeSet<GfPermission>) -> BTreeSet<Permission> {
    expand(granted)
        .iter()
        .flat_map(|p| p.needs().iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_or_without_a_store() {
        assert_eq!(
            GfPermission::parse("btcpay.store.canviewinvoices:ABC"),
            Some((GfPermission::ViewInvoices, Some("ABC")))
        );
        assert_eq!(
            GfPermission::parse("btcpay.store.webhooks.canmodifywebhooks"),
            Some((GfPermission::ModifyWebhooks, None))
        );
        assert_eq!(
            GfPermission::parse("btcpay.store.canmodifystoresettings"),
            None
        );
        assert_eq!(GfPermission::parse("unrestricted"), None);
    }

    #[test]
    fn woocommerce_asks_for_what_a_receiving_reading_key_needs() {
        let asked: BTreeSet<GfPermission> = [
            GfPermission::ViewInvoices,
            GfPermission::CreateInvoice,
            GfPermission::ModifyInvoices,
            GfPermission::ViewStoreSettings,
        ]
        .into();
        assert_eq!(
            v1_permissions(&asked),
            [Permission::LightningRead, Permission::LightningReceive].into()
        );
        // Webhooks alone need nothing of /v1: the key cannot touch the merchant's own webhooks.
        assert!(v1_permissions(&[GfPermission::ModifyWebhooks].into()).is_empty());
        // Modifying includes reading and creating.
        assert!(
            expand(&[GfPermission::ModifyInvoices].into()).contains(&GfPermission::ViewInvoices)
        );
    }
}
