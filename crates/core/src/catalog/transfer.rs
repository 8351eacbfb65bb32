//! The catalog's items in and out as CSV (for a spreadsheet, or moving from another system) or
//! JSON rows, written and read with the `csv` crate (RFC 4180). One row per item for sale:
//! `name, price, currency, category, tax`, where `currency` is empty for sats and `tax` is
//! `default`, `none`, or a tax rate's name. Pictures are not carried (add them in the dashboard).
//!
//! An import is all or nothing: every row is checked first (an error names its row), then all
//! are added in one transaction, at the end of the grid. Text a spreadsheet would run as a formula
//! is written with a leading `'` and read back without it.

use serde::{Deserialize, Serialize};

use super::{db, Catalog, NewItem, TAX_DEFAULT, TAX_NONE};
use crate::error::{Error, Result};
use crate::util::neutralise;

/// The columns, in order.
pub const HEADER: [&str; 5] = ["name", "price", "currency", "category", "tax"];
/// The most rows one import takes.
pub const MAX_ROWS: usize = 1_000;

/// One item as exported and imported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRow {
    /// 1 to 80 characters.
    pub name: String,
    /// A decimal string in `currency`, or whole sats when `currency` is empty.
    #[serde(deserialize_with = "crate::rates::decimal_string")]
    pub price: String,
    /// ISO 4217 code, or empty (or null) for sats.
    #[serde(default)]
    pub currency: Option<String>,
    /// The point of sale's group, or empty.
    #[serde(default)]
    pub category: Option<String>,
    /// `default`, `none`, or a tax rate's name (default: `default`).
    #[serde(default)]
    pub tax: Option<String>,
}

/// An import: CSV text with the header row, or rows (exactly one of the two; `null` is neither).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogImport {
    /// CSV with the columns `name, price, currency, category, tax`, as the export writes it.
    #[serde(default, deserialize_with = "crate::util::present")]
    pub csv: Option<String>,
    /// The same as JSON rows.
    #[serde(default, deserialize_with = "crate::util::present")]
    pub items: Option<Vec<ItemRow>>,
}

/// Written by hand so that the API document says "exactly one of the two" as the server enforces
/// it (`minProperties` and `maxProperties` 1, neither field nullable): utoipa's derive cannot
/// state a minimum number of properties (its `min_properties` sets the maximum).
impl utoipa::PartialSchema for CatalogImport {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type};
        use utoipa::openapi::Ref;
        ObjectBuilder::new()
            .description(Some(
                "An import: CSV text with the header row, or rows (exactly one of the two).",
            ))
            .property(
                "csv",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                    "CSV with the columns `name, price, currency, category, tax`, as the export \
                     writes it.",
                )),
            )
            .property(
                "items",
                ArrayBuilder::new()
                    .items(Ref::from_schema_name("ItemRow"))
                    .description(Some("The same as JSON rows.")),
            )
            .min_properties(Some(1))
            .max_properties(Some(1))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for CatalogImport {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((ItemRow::name().into_owned(), ItemRow::schema()));
        <ItemRow as utoipa::ToSchema>::schemas(schemas);
    }
}

/// What an import added.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// How many items were added.
    pub imported: usize,
}

/// `text` as written before the export neutralised it.
fn restore(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some('\''), Some('=' | '+' | '-' | '@' | '\t' | '\r')) => text[1..].to_string(),
        _ => text.to_string(),
    }
}

fn empty_to_none(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

impl Catalog<'_> {
    /// The items for sale as CSV.
    pub async fn export_csv(&self) -> Result<String> {
        let taxes = db::taxes(self.store, true).await?;
        let mut out = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let broke = |e: ::csv::Error| Error::Config(format!("the CSV could not be written: {e}"));
        out.write_record(HEADER).map_err(broke)?;
        for item in self.items(false).await? {
            let tax = match item.tax.as_str() {
                TAX_DEFAULT | TAX_NONE => item.tax.clone(),
                id => taxes
                    .iter()
                    .find(|t| t.id == id)
                    .map(|t| t.name.clone())
                    .unwrap_or_else(|| TAX_DEFAULT.to_string()),
            };
            out.write_record([
                neutralise(&item.name),
                item.price,
                item.currency.unwrap_or_default(),
                neutralise(item.category.as_deref().unwrap_or("")),
                neutralise(&tax),
            ])
            .map_err(broke)?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| Error::Config(format!("the CSV could not be written: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::Config(format!("the CSV is not UTF-8: {e}")))
    }

    /// Adds every row of `import` to the catalog, or none (see the module doc).
    pub async fn import(&self, import: CatalogImport) -> Result<Imported> {
        let rows = match (import.csv, import.items) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(Error::invalid(
                    "csv",
                    "give the items either as csv text or as items rows, one of the two",
                ))
            }
            (Some(text), None) => read_csv(&text)?,
            (None, Some(rows)) => rows,
        };
        if rows.is_empty() || rows.len() > MAX_ROWS {
            return Err(Error::invalid(
                "items",
                format!("an import has 1 to {MAX_ROWS} items"),
            ));
        }
        if db::count_items(self.store).await? + rows.len() as i64 > super::MAX_ITEMS {
            return Err(Error::unprocessable(
                crate::error::ErrorCode::CatalogFull,
                None,
                format!("the catalog holds at most {} items", super::MAX_ITEMS),
            ));
        }
        let taxes = db::taxes(self.store, false).await?;
        let mut checked = Vec::with_capacity(rows.len());
        for (n, row) in rows.into_iter().enumerate() {
            let at = |e: Error| Error::invalid("items", format!("item {}: {e}", n + 1));
            let tax = match empty_to_none(row.tax).map(|t| restore(&t)) {
                None => TAX_DEFAULT.to_string(),
                Some(t) if t == TAX_DEFAULT || t == TAX_NONE => t,
                Some(name) => taxes
                    .iter()
                    .find(|t| t.name.eq_ignore_ascii_case(&name))
                    .map(|t| t.id.clone())
                    .ok_or_else(|| {
                        Error::invalid(
                            "items",
                            format!(
                                "item {}: there is no tax rate named '{name}': add it first, or \
                                 use default or none",
                                n + 1
                            ),
                        )
                    })?,
            };
            let new = NewItem {
                name: restore(&row.name),
                price: row.price,
                currency: empty_to_none(row.currency),
                category: empty_to_none(row.category).map(|c| restore(&c)),
                tax: Some(tax),
                image: None,
            };
            checked.push(self.check_item(new).await.map_err(at)?);
        }
        let mut tx = self.store.pool().begin().await?;
        for item in &checked {
            db::insert_item_in(&mut tx, item.row()).await?;
        }
        tx.commit().await?;
        Ok(Imported {
            imported: checked.len(),
        })
    }
}

/// The rows of a CSV with the header row (columns in any order; `name` and `price` needed).
fn read_csv(text: &str) -> Result<Vec<ItemRow>> {
    let mut reader = ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| Error::invalid("csv", format!("the CSV cannot be read: {e}")))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(name), Some(price)) = (col("name"), col("price")) else {
        return Err(Error::invalid(
            "csv",
            format!(
                "the first row must name the columns: {} (name and price are needed)",
                HEADER.join(", ")
            ),
        ));
    };
    let (currency, category, tax) = (col("currency"), col("category"), col("tax"));
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::invalid("csv", format!("line {}: {e}", n + 2)))?;
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::to_string);
        rows.push(ItemRow {
            name: get(Some(name)).unwrap_or_default(),
            price: get(Some(price)).unwrap_or_default(),
            currency: get(currency),
            category: get(category),
            tax: get(tax),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NewTax;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn a_catalog_goes_out_and_back_in_and_a_bad_row_adds_nothing() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let catalog = Catalog::new(&store);
        catalog
            .add_tax(NewTax {
                name: "Reduced".into(),
                rate: "5.5".into(),
                inclusive: true,
                default: false,
            })
            .await?;
        let csv = "name,price,currency,category,tax\r\n\
                   Flat white,3.60,EUR,Drinks,default\r\n\
                   \"Cake, lemon\",2.20,EUR,Food,reduced\r\n\
                   '=SUM(A1),1500,,,none\r\n";
        let done = catalog
            .import(CatalogImport {
                csv: Some(csv.into()),
                items: None,
            })
            .await?;
        assert_eq!(done.imported, 3);
        let items = catalog.items(false).await?;
        assert_eq!(items[1].name, "Cake, lemon");
        assert_eq!(
            items[2].name, "=SUM(A1)",
            "the formula guard is undone on the way in"
        );
        assert_eq!(items[2].currency, None);
        let out = catalog.export_csv().await?;
        assert!(
            out.contains("\"Cake, lemon\",2.20,EUR,Food,Reduced\r\n"),
            "{out}"
        );
        assert!(out.contains("'=SUM(A1),1500,,,none\r\n"), "{out}");

        // Row 2 is wrong: nothing of the import is added, and the error names the row.
        let bad = catalog
            .import(CatalogImport {
                csv: None,
                items: Some(vec![
                    ItemRow {
                        name: "Tea".into(),
                        price: "2.00".into(),
                        currency: Some("EUR".into()),
                        ..Default::default()
                    },
                    ItemRow {
                        name: "Scone".into(),
                        price: "2.005".into(),
                        currency: Some("EUR".into()),
                        ..Default::default()
                    },
                ]),
            })
            .await
            .err()
            .map(|e| e.to_string());
        assert!(
            bad.as_deref().is_some_and(|e| e.starts_with("item 2:")),
            "{bad:?}"
        );
        assert_eq!(catalog.items(false).await?.len(), 3);
        let no_header = catalog
            .import(CatalogImport {
                csv: Some("Tea,2.00\r\n".into()),
                items: None,
            })
            .await;
        assert!(no_header.is_err());
        Ok(())
    }
}
