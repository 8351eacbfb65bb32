//! QR codes of invoices, as SVG and PNG.

use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

use crate::error::ApiError;
use payaiml_core::ErrorCode;

/// The text encoded for an invoice: an uppercase `LIGHTNING:` URI. Bech32 is case-insensitive and
/// uppercase fits QR's alphanumeric mode, which makes a noticeably less dense code.
pub fn invoice_uri(payment_request: &str) -> String {
    format!("lightning:{payment_request}").to_ascii_uppercase()
}

fn code(data: &str) -> Result<QrCode, ApiError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::new(ErrorCode::QrError, format!("cannot make a QR code: {e}")))
}

/// An SVG QR code at least `size` pixels wide.
pub fn svg(data: &str, size: u32) -> Result<String, ApiError> {
    Ok(code(data)?
        .render::<svg::Color<'_>>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build())
}

/// A greyscale PNG QR code, `scale` pixels per module, with the standard 4-module quiet zone.
pub fn png(data: &str, scale: u32) -> Result<Vec<u8>, ApiError> {
    let code = code(data)?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i as u32 % modules, i as u32 / modules);
        for dy in 0..scale {
            let row = ((my + quiet) * scale + dy) * side;
            let start = (row + (mx + quiet) * scale) as usize;
            pixels[start..start + scale as usize].fill(0);
        }
    }
    let mut out = Vec::new();
    let failed = |e: png::EncodingError| {
        ApiError::new(ErrorCode::QrError, format!("cannot encode PNG: {e}"))
    };
    {
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(failed)?;
        writer.write_image_data(&pixels).map_err(failed)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_formats() {
        let uri = invoice_uri("lnbcrt10u1abc");
        assert_eq!(uri, "LIGHTNING:LNBCRT10U1ABC");
        let s = svg(&uri, 256).expect("svg");
        assert!(s.contains("<svg"));
        let p = png(&uri, 4).expect("png");
        assert_eq!(&p[1..4], b"PNG");
    }
}
