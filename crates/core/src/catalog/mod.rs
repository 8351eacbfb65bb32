//! The shop's catalog, reached through [`Catalog`] (`app.catalog()`): the items the point of
//! sale shows (name, price in the merchant's currency or in sats, category, tax, picture, place
//! in the grid) and the tax rates (one or more, each included in prices or added on top, one of
//! them the default). A cart of items is priced here ([`Catalog::price_cart`], by the rules in
//! [`order`]) into the [`Order`] an invoice records.

pub(crate) mod db;
pub mod order;
pub mod transfer;

use base64::Engine;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};
use crate::rates::service::currency_code;
use crate::store::Store;
use crate::util::{new_id, now_ms};
use order::{compute, parse_percent, parse_unit_amount, read_tip, PricedLine, MAX_LINES};
pub use order::{Cart, CartLine, Order, TaxRate, Tip};
pub use transfer::{CatalogImport, Imported, ItemRow};

/// The most items a catalog holds (archived ones included).
pub const MAX_ITEMS: i64 = 2_000;
/// The most tax rates.
pub const MAX_TAXES: i64 = 50;
/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// The largest picture, in bytes: a small thumbnail (the dashboard shrinks pictures to fit).
pub const MAX_IMAGE_BYTES: usize = 40 * 1024;
/// The most a tax rate may be, in percent.
pub const MAX_TAX_PERCENT: u32 = 100;

/// An item's tax: the shop's default, none, or a rate by id.
pub const TAX_DEFAULT: &str = "default";
/// No tax on this item.
pub const TAX_NONE: &str = "none";

/// An item of the catalog.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Item {
    /// `itm_…`
    pub id: String,
    /// Its name on the button and the receipt.
    pub name: String,
    /// Its price, a decimal string in `currency` ("3.50"), or whole sats ("1500").
    pub price: String,
    /// ISO 4217 code of the price; null: the price is in sats.
    pub currency: Option<String>,
    /// The group it is shown in on the point of sale (null: none).
    pub category: Option<String>,
    /// `default` (the shop's default tax), `none`, or a tax rate's id.
    pub tax: String,
    /// Its place in the grid (smaller first).
    pub position: i64,
    /// A small picture as a `data:` URL (JPEG, PNG or WebP), or null.
    pub image: Option<String>,
    /// Archived items stay for history but are not sold.
    pub archived: bool,
    /// When it was added.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

/// A new item.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// 1 to 80 characters, not only spaces, no control characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// A decimal string in `currency` ("3.50"; yen "500"), or whole sats when `currency` is
    /// null ("1500").
    #[serde(deserialize_with = "crate::rates::decimal_string")]
    #[schema(example = "3.50", pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$")]
    pub price: String,
    /// ISO 4217 code; null or omitted: the price is in sats.
    #[schema(schema_with = crate::rates::nullable_currency_schema)]
    pub currency: Option<String>,
    /// A group on the point of sale ("Drinks"), up to 80 characters, no control characters;
    /// empty for none.
    #[schema(max_length = 80, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    pub category: Option<String>,
    /// `default` (the default), `none`, or a tax rate's id.
    pub tax: Option<String>,
    /// A picture as a `data:image/jpeg;base64,…` (or png, webp) URL, at most 40 KiB.
    pub image: Option<String>,
}

/// A change to an item; absent fields stay as they are, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChange {
    /// A new name: 1 to 80 characters, not only spaces, no control characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    /// A new price (with `currency` when that changes too).
    #[serde(default, deserialize_with = "order::optional_decimal")]
    #[schema(pattern = "^[0-9]{1,15}([.][0-9]{1,2})?$", nullable = false)]
    pub price: Option<String>,
    /// A new currency for the price; `null` for sats.
    #[serde(default, deserialize_with = "crate::util::present")]
    #[schema(schema_with = crate::rates::nullable_currency_schema)]
    pub currency: Option<Option<String>>,
    /// A new category (up to 80 characters, no control characters); `null` or empty for none.
    #[serde(default, deserialize_with = "crate::util::present")]
    #[schema(
        nullable,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub category: Option<Option<String>>,
    /// `default`, `none`, or a tax rate's id.
    pub tax: Option<String>,
    /// A new picture; `null` removes it.
    #[serde(default, deserialize_with = "crate::util::present")]
    #[schema(nullable)]
    pub image: Option<Option<String>>,
    /// Archive (true) or bring back (false).
    pub archived: Option<bool>,
}

/// A tax rate of the catalog.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tax {
    /// `tax_…`
    pub id: String,
    /// Its name on receipts ("VAT").
    pub name: String,
    /// Percent, a decimal string ("8.1").
    pub rate: String,
    /// Whether prices include it (true) or it is added on top (false).
    pub inclusive: bool,
    /// Whether it applies to items and custom amounts that name no tax.
    pub default: bool,
    /// Archived rates are kept for history but no longer apply.
    pub archived: bool,
    /// When it was added.
    pub created_at: String,
}

/// A new tax rate.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTax {
    /// 1 to 80 characters, not only spaces, no control characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Percent, a decimal string from 0 to 100 with at most 3 decimals ("8.1").
    #[serde(deserialize_with = "crate::rates::decimal_string")]
    #[schema(
        example = "8.1",
        pattern = "^(100([.]0{1,3})?|[0-9]{1,2}([.][0-9]{1,3})?)$"
    )]
    pub rate: String,
    /// Prices include it (true) or it is added on top (false).
    pub inclusive: bool,
    /// Make it the default (the previous default stops being one).
    #[serde(default)]
    pub default: bool,
}

/// A change to a tax rate. The rate itself and whether it is included are fixed once made (a
/// new rate is a new tax): sales keep their own copy, and a receipt must not change meaning.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxChange {
    /// A new name: 1 to 80 characters, not only spaces, no control characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    /// Make it the default (true) or not (false).
    pub default: Option<bool>,
    /// Archive it (true: refused while an item for sale is sold under it) or bring it back
    /// (false).
    pub archived: Option<bool>,
}

/// A new item with every field checked, ready to insert.
pub(crate) struct CheckedItem {
    id: String,
    name: String,
    price: String,
    currency: Option<String>,
    category: Option<String>,
    tax: String,
    image: Option<Image>,
    at: i64,
}

impl CheckedItem {
    fn row(&self) -> db::NewItemRow<'_> {
        db::NewItemRow {
            id: &self.id,
            name: &self.name,
            price: &self.price,
            currency: self.currency.as_deref(),
            category: self.category.as_deref(),
            tax: &self.tax,
            image: self.image.as_ref(),
            at: self.at,
        }
    }
}

/// Every tax rate, archived ones too (an item may still name one), read once for a cart.
struct TaxTable(Vec<Tax>);

impl TaxTable {
    async fn load(store: &Store) -> Result<TaxTable> {
        Ok(TaxTable(db::taxes(store, true).await?))
    }

    /// Checks a tax choice: `default`, `none`, or a rate in use.
    fn choice(&self, tax: &str) -> Result<String> {
        match tax {
            TAX_DEFAULT | TAX_NONE => Ok(tax.to_string()),
            id => match self.0.iter().find(|t| t.id == id) {
                Some(t) if !t.archived => Ok(t.id.clone()),
                Some(_) => Err(Error::invalid(
                    "tax",
                    format!("the tax rate '{id}' is archived"),
                )),
                None => Err(Error::invalid(
                    "tax",
                    format!("'{id}' is not a tax rate: use default, none or a tax id"),
                )),
            },
        }
    }

    /// The rate a tax choice comes to now (`None`: no tax).
    fn rate(&self, choice: &str) -> Result<Option<(TaxRate, Decimal)>> {
        let tax = match choice {
            TAX_NONE => return Ok(None),
            TAX_DEFAULT => match self.0.iter().find(|t| t.default && !t.archived) {
                Some(t) => t,
                None => return Ok(None),
            },
            id => self
                .0
                .iter()
                .find(|t| t.id == id)
                .ok_or_else(|| Error::NotFound {
                    kind: "tax rate",
                    id: id.to_string(),
                })?,
        };
        let percent = tax
            .rate
            .parse::<Decimal>()
            .map_err(|_| Error::Config(format!("tax rate {} is stored unreadably", tax.id)))?;
        Ok(Some((
            TaxRate {
                id: tax.id.clone(),
                name: tax.name.clone(),
                rate: tax.rate.clone(),
                inclusive: tax.inclusive,
            },
            percent,
        )))
    }
}

/// The catalog for the point of sale and the dashboard. Borrowed from [`crate::App`].
pub struct Catalog<'a> {
    store: &'a Store,
}

fn name_field(name: &str, field: &'static str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            field,
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("{field} must not hold control characters"),
        ));
    }
    Ok(name.to_string())
}

fn category_field(category: Option<String>) -> Result<Option<String>> {
    match category.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) => name_field(c, "category").map(Some),
    }
}

/// A decoded picture: its bytes and type, checked by their first bytes (not the URL's claim).
pub(crate) struct Image {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

fn image_field(data_url: &str) -> Result<Image> {
    let bad = |why: &str| Error::invalid("image", format!("image {why}"));
    let (head, data) = data_url
        .split_once(',')
        .ok_or_else(|| bad("must be a data: URL (data:image/jpeg;base64,…)"))?;
    if !head.starts_with("data:image/") || !head.ends_with(";base64") {
        return Err(bad(
            "must be a base64 data: URL of a JPEG, PNG or WebP picture",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| bad("is not valid base64"))?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(bad(&format!(
            "is {} KiB; at most {} KiB fit (shrink it to a thumbnail)",
            bytes.len().div_ceil(1024),
            MAX_IMAGE_BYTES / 1024
        )));
    }
    let mime = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return Err(bad("is not a JPEG, PNG or WebP picture"));
    };
    Ok(Image { bytes, mime })
}

fn currency_field(currency: Option<&str>, field: &'static str) -> Result<Option<String>> {
    currency.map(|c| currency_code(c, field)).transpose()
}

impl<'a> Catalog<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Catalog { store }
    }

    /// The items, in grid order; archived ones too when `archived` is true.
    pub async fn items(&self, archived: bool) -> Result<Vec<Item>> {
        db::items(self.store, archived).await
    }

    /// One item.
    pub async fn item(&self, id: &str) -> Result<Item> {
        db::item(self.store, id).await
    }

    /// Adds an item at the end of the grid.
    pub async fn add_item(&self, new: NewItem) -> Result<Item> {
        let checked = self.check_item(new).await?;
        if db::count_items(self.store).await? >= MAX_ITEMS {
            return Err(Error::unprocessable(
                ErrorCode::CatalogFull,
                None,
                format!("the catalog holds at most {MAX_ITEMS} items: archive or delete some"),
            ));
        }
        db::insert_item(self.store, checked.row()).await?;
        self.item(&checked.id).await
    }

    /// Checks a new item's every field (and that its tax exists), without adding it.
    pub(crate) async fn check_item(&self, new: NewItem) -> Result<CheckedItem> {
        let name = name_field(&new.name, "name")?;
        let currency = currency_field(new.currency.as_deref(), "currency")?;
        let price = parse_unit_amount(&new.price, currency.as_deref(), "price", false)?;
        let category = category_field(new.category)?;
        let tax = self
            .tax_choice(new.tax.as_deref().unwrap_or(TAX_DEFAULT))
            .await?;
        let image = new.image.as_deref().map(image_field).transpose()?;
        Ok(CheckedItem {
            id: new_id("itm"),
            name,
            price: price.to_string(),
            currency,
            category,
            tax,
            image,
            at: now_ms(),
        })
    }

    /// Changes an item; a price changes only sales made after.
    pub async fn change_item(&self, id: &str, change: ItemChange) -> Result<Item> {
        let current = self.item(id).await?;
        let name = change
            .name
            .as_deref()
            .map(|n| name_field(n, "name"))
            .transpose()?;
        let currency = match &change.currency {
            Some(c) => currency_field(c.as_deref(), "currency")?,
            None => current.currency.clone(),
        };
        // A new currency needs a price in it: the old figure means something else there.
        let price_text = match (&change.price, &change.currency) {
            (Some(p), _) => p.clone(),
            (None, Some(_)) if currency != current.currency => {
                return Err(Error::invalid(
                    "price",
                    "give the price in the new currency along with it",
                ))
            }
            (None, _) => current.price.clone(),
        };
        let price = parse_unit_amount(&price_text, currency.as_deref(), "price", false)?;
        let category = match change.category {
            Some(c) => category_field(c)?,
            None => current.category.clone(),
        };
        let tax = match change.tax.as_deref() {
            Some(t) => self.tax_choice(t).await?,
            None => current.tax.clone(),
        };
        let image = match change.image {
            Some(Some(url)) => Some(Some(image_field(&url)?)),
            Some(None) => Some(None),
            None => None,
        };
        db::update_item(
            self.store,
            id,
            db::ItemUpdate {
                name: name.as_deref().unwrap_or(&current.name),
                price: &price.to_string(),
                currency: currency.as_deref(),
                category: category.as_deref(),
                tax: &tax,
                image: image.as_ref().map(|i| i.as_ref()),
                archived: change.archived,
                at: now_ms(),
            },
        )
        .await?;
        self.item(id).await
    }

    /// Deletes an item for good (sales keep their own copy of its name and price).
    pub async fn delete_item(&self, id: &str) -> Result<()> {
        db::delete_item(self.store, id).await
    }

    /// Puts the items in this order (every id must be an item; others keep their order after).
    pub async fn reorder(&self, ids: &[String]) -> Result<Vec<Item>> {
        if ids.is_empty() || ids.len() > MAX_ITEMS as usize {
            return Err(Error::invalid(
                "ids",
                format!("ids must list 1 to {MAX_ITEMS} items"),
            ));
        }
        let shaped = |id: &str| {
            id.strip_prefix("itm_").is_some_and(|rest| {
                rest.len() == 20
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
        };
        if let Some(odd) = ids.iter().find(|id| !shaped(id)) {
            return Err(Error::invalid(
                "ids",
                format!("'{odd}' is not an item id (itm_ and 20 lower-case letters or digits)"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(Error::invalid("ids", format!("'{dup}' is listed twice")));
        }
        db::reorder(self.store, ids).await?;
        self.items(true).await
    }

    /// The tax rates; archived ones too when `archived` is true.
    pub async fn taxes(&self, archived: bool) -> Result<Vec<Tax>> {
        db::taxes(self.store, archived).await
    }

    /// Adds a tax rate.
    pub async fn add_tax(&self, new: NewTax) -> Result<Tax> {
        let name = name_field(&new.name, "name")?;
        let rate = parse_percent(&new.rate, "rate", MAX_TAX_PERCENT)?;
        if db::count_taxes(self.store).await? >= MAX_TAXES {
            return Err(Error::unprocessable(
                ErrorCode::CatalogFull,
                None,
                format!("at most {MAX_TAXES} tax rates can be kept"),
            ));
        }
        let id = new_id("tax");
        db::insert_tax(
            self.store,
            &id,
            &name,
            &rate.to_string(),
            new.inclusive,
            new.default,
            now_ms(),
        )
        .await?;
        db::tax(self.store, &id).await
    }

    /// Renames a tax rate, makes it the default or not, archives it or brings it back.
    pub async fn change_tax(&self, id: &str, change: TaxChange) -> Result<Tax> {
        let current = db::tax(self.store, id).await?;
        let name = change
            .name
            .as_deref()
            .map(|n| name_field(n, "name"))
            .transpose()?;
        if change.archived == Some(true) && !current.archived {
            let users = db::items_with_tax(self.store, id).await?;
            if users > 0 {
                return Err(Error::conflict(
                    ErrorCode::CatalogConflict,
                    format!(
                        "{users} item(s) are sold under this tax rate: give them another tax \
                         (or archive them) first"
                    ),
                ));
            }
        }
        db::update_tax(
            self.store,
            id,
            name.as_deref().unwrap_or(&current.name),
            change.default,
            change.archived,
        )
        .await?;
        db::tax(self.store, id).await
    }

    /// Checks an item's or a line's tax choice: `default`, `none`, or a rate in use.
    async fn tax_choice(&self, tax: &str) -> Result<String> {
        TaxTable::load(self.store).await?.choice(tax)
    }

    /// Prices a cart by the catalog as it is now: each item's name, price and tax, custom
    /// lines as given, then taxes, tip and total ([`order`]).
    pub async fn price_cart(&self, cart: &Cart) -> Result<Order> {
        let currency = currency_field(cart.currency.as_deref(), "cart.currency")?;
        if cart.lines.is_empty() || cart.lines.len() > MAX_LINES {
            return Err(Error::invalid(
                "cart.lines",
                format!("a cart has 1 to {MAX_LINES} lines"),
            ));
        }
        let unit = currency.as_deref().unwrap_or("sats");
        // The rates are read once for the whole cart, not per line.
        let taxes = TaxTable::load(self.store).await?;
        let mut lines = Vec::with_capacity(cart.lines.len());
        for (n, line) in cart.lines.iter().enumerate() {
            let at = format!("line {}", n + 1);
            let quantity = line.quantity.unwrap_or(1);
            if !(1..=order::MAX_QUANTITY).contains(&quantity) {
                return Err(Error::invalid(
                    "cart.lines",
                    format!("{at}: quantity must be 1 to {}", order::MAX_QUANTITY),
                ));
            }
            let note = match line.note.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(n) if n.len() > order::MAX_NOTE_BYTES || n.chars().any(char::is_control) => {
                    return Err(Error::invalid(
                        "cart.lines",
                        format!(
                            "{at}: a note is at most {} bytes, on one line",
                            order::MAX_NOTE_BYTES
                        ),
                    ))
                }
                Some(n) => Some(n.to_string()),
            };
            let priced = match &line.item_id {
                Some(id) => {
                    if line.unit_price.is_some() || line.name.is_some() || line.tax.is_some() {
                        return Err(Error::invalid(
                            "cart.lines",
                            format!(
                                "{at}: an item's name, price and tax come from the catalog; \
                                 give item_id alone (with quantity and note)"
                            ),
                        ));
                    }
                    let item = match db::item(self.store, id).await {
                        Err(Error::NotFound { .. }) => {
                            return Err(Error::unprocessable(
                                ErrorCode::ItemUnavailable,
                                Some("cart.lines"),
                                format!("{at}: there is no item '{id}'"),
                            ))
                        }
                        other => other?,
                    };
                    if item.archived {
                        return Err(Error::unprocessable(
                            ErrorCode::ItemUnavailable,
                            Some("cart.lines"),
                            format!("{at}: '{}' is archived and not for sale", item.name),
                        ));
                    }
                    if item.currency != currency {
                        return Err(Error::unprocessable(
                            ErrorCode::ItemUnavailable,
                            Some("cart.lines"),
                            format!(
                                "{at}: '{}' is priced in {}, and this cart is in {unit}",
                                item.name,
                                item.currency.as_deref().unwrap_or("sats")
                            ),
                        ));
                    }
                    PricedLine {
                        item_id: Some(item.id),
                        name: item.name,
                        quantity,
                        unit_price: item.price.parse().map_err(|_| {
                            Error::Config(format!("item {id}'s price is stored unreadably"))
                        })?,
                        note,
                        tax: taxes.rate(&item.tax)?,
                    }
                }
                None => {
                    let price = line.unit_price.as_deref().ok_or_else(|| {
                        Error::invalid(
                            "cart.lines",
                            format!("{at}: give item_id, or unit_price for a custom amount"),
                        )
                    })?;
                    let unit_price =
                        parse_unit_amount(price, currency.as_deref(), "cart.lines", false)
                            .map_err(|e| Error::invalid("cart.lines", format!("{at}: {e}")))?;
                    let name = match line.name.as_deref().map(str::trim) {
                        None | Some("") => "Custom amount".to_string(),
                        Some(n) => name_field(n, "cart.lines")
                            .map_err(|e| Error::invalid("cart.lines", format!("{at}: {e}")))?,
                    };
                    let choice = taxes
                        .choice(line.tax.as_deref().unwrap_or(TAX_DEFAULT))
                        .map_err(|e| Error::invalid("cart.lines", format!("{at}: {e}")))?;
                    PricedLine {
                        item_id: None,
                        name,
                        quantity,
                        unit_price,
                        note,
                        tax: taxes.rate(&choice)?,
                    }
                }
            };
            lines.push(priced);
        }
        let tip = read_tip(cart.tip.as_ref(), currency.as_deref())?;
        compute(currency.as_deref(), lines, tip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn eur(name: &str, price: &str, tax: Option<&str>) -> NewItem {
        NewItem {
            name: name.into(),
            price: price.into(),
            currency: Some("EUR".into()),
            tax: tax.map(str::to_string),
            ..Default::default()
        }
    }

    fn line(item: &Item, quantity: u32) -> CartLine {
        CartLine {
            item_id: Some(item.id.clone()),
            quantity: Some(quantity),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_cart_is_priced_by_the_catalog_with_its_taxes() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let catalog = Catalog::new(&store);
        let vat = catalog
            .add_tax(NewTax {
                name: "VAT".into(),
                rate: "20".into(),
                inclusive: true,
                default: true,
            })
            .await?;
        let reduced = catalog
            .add_tax(NewTax {
                name: "Reduced".into(),
                rate: "5.5".into(),
                inclusive: true,
                default: false,
            })
            .await?;
        let coffee = catalog.add_item(eur("Flat white", "3.60", None)).await?;
        let cake = catalog
            .add_item(eur("Croissant", "2.11", Some(&reduced.id)))
            .await?;
        assert_eq!((coffee.position, cake.position), (1, 2));
        assert_eq!(coffee.tax, TAX_DEFAULT);
        let cart = Cart {
            currency: Some("EUR".into()),
            lines: vec![
                line(&coffee, 2),
                line(&cake, 1),
                CartLine {
                    name: Some("Gift wrap".into()),
                    unit_price: Some("1.00".into()),
                    tax: Some(TAX_NONE.into()),
                    note: Some("  red ribbon ".into()),
                    ..Default::default()
                },
            ],
            tip: Some(Tip {
                percent: Some("10".into()),
                amount: None,
            }),
        };
        let order = catalog.price_cart(&cart).await?;
        // Coffee 7.20 incl. 20 %: tax 1.20, base 6.00. Croissant 2.11 incl. 5.5 %: tax
        // 0.1100… → 0.11, base 2.00. Gift wrap 1.00 untaxed. Net 9.00, tax 1.31, due 10.31,
        // tip 1.031 → 1.03, total 11.34.
        assert_eq!(order.subtotal, "10.31");
        assert_eq!((order.net.as_str(), order.tax.as_str()), ("9.00", "1.31"));
        assert_eq!(
            (order.tip.as_str(), order.total.as_str()),
            ("1.03", "11.34")
        );
        assert_eq!(order.lines[0].tax_id.as_deref(), Some(vat.id.as_str()));
        assert_eq!(order.lines[2].note.as_deref(), Some("red ribbon"));
        assert_eq!(order.lines[2].tax_id, None);
        // The rate cannot be archived while an item is sold under it.
        let archive = TaxChange {
            archived: Some(true),
            ..Default::default()
        };
        let err = catalog.change_tax(&reduced.id, archive.clone()).await.err();
        assert_eq!(err.map(|e| e.code()), Some(ErrorCode::CatalogConflict));
        // An archived item, or one priced in another unit, is not for sale.
        catalog
            .change_item(
                &cake.id,
                ItemChange {
                    archived: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        let err = catalog
            .price_cart(&Cart {
                currency: Some("EUR".into()),
                lines: vec![line(&cake, 1)],
                tip: None,
            })
            .await
            .err();
        assert_eq!(err.map(|e| e.code()), Some(ErrorCode::ItemUnavailable));
        let err = catalog
            .price_cart(&Cart {
                currency: None,
                lines: vec![line(&coffee, 1)],
                tip: None,
            })
            .await
            .err();
        assert_eq!(err.map(|e| e.code()), Some(ErrorCode::ItemUnavailable));
        // Once the item is archived, so can the rate be; the sale keeps its copy.
        catalog.change_tax(&reduced.id, archive).await?;
        assert_eq!(catalog.taxes(false).await?.len(), 1);
        Ok(())
    }

    #[tokio::test]
    async fn items_are_checked_changed_and_reordered() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let catalog = Catalog::new(&store);
        for (bad, field) in [
            (eur("", "1.00", None), "name"),
            (eur("Tea", "1.005", None), "price"),
            (eur("Tea", "0", None), "price"),
            (eur("Tea", "1.00", Some("tax_nope")), "tax"),
            (
                NewItem {
                    currency: None,
                    ..eur("Tea", "10.5", None)
                },
                "price",
            ),
            (
                NewItem {
                    image: Some("data:image/png;base64,aGVsbG8=".into()),
                    ..eur("Tea", "1.00", None)
                },
                "image",
            ),
        ] {
            let err = catalog.add_item(bad).await.err();
            assert_eq!(err.as_ref().and_then(Error::field), Some(field), "{err:?}");
        }
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nrest");
        let tea = catalog
            .add_item(NewItem {
                image: Some(format!("data:image/png;base64,{png}")),
                category: Some(" Drinks ".into()),
                ..eur("Tea", "2.50", None)
            })
            .await?;
        assert_eq!(tea.category.as_deref(), Some("Drinks"));
        assert!(tea
            .image
            .as_deref()
            .is_some_and(|i| i.starts_with("data:image/png;base64,")));
        let bun = catalog.add_item(eur("Bun", "1.50", None)).await?;
        // Sats need a price in sats: switching unit without a price is refused.
        let err = catalog
            .change_item(
                &tea.id,
                ItemChange {
                    currency: Some(None),
                    ..Default::default()
                },
            )
            .await
            .err();
        assert_eq!(err.as_ref().and_then(Error::field), Some("price"));
        let tea = catalog
            .change_item(
                &tea.id,
                ItemChange {
                    currency: Some(None),
                    price: Some("4000".into()),
                    image: Some(None),
                    category: Some(None),
                    ..Default::default()
                },
            )
            .await?;
        assert_eq!(
            (tea.price.as_str(), tea.currency.as_deref()),
            ("4000", None)
        );
        assert!(tea.image.is_none() && tea.category.is_none());
        let order = catalog.reorder(std::slice::from_ref(&bun.id)).await?;
        let ids: Vec<&str> = order.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, [bun.id.as_str(), tea.id.as_str()]);
        assert!(catalog.reorder(&["itm_nope".into()]).await.is_err());
        catalog.delete_item(&bun.id).await?;
        assert_eq!(catalog.items(true).await?.len(), 1);
        Ok(())
    }
}
