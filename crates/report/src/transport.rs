//! What every view says about a transport: its place in the order, the name a reader sees, and
//! the one colour it has in every chart (Okabe–Ito palette, distinguishable with colour blindness).

use plotters::style::RGBColor;

/// The transports rtbench knows, floor first, in the order views list them.
pub const ORDER: [&str; 5] = ["tcp", "websocket", "sse", "long_poll", "short_poll"];

/// The raw-TCP floor's name in results rows.
pub const FLOOR: &str = "tcp";

/// Sort key: known transports in [`ORDER`], anything else after them.
pub fn rank(transport: &str) -> usize {
    ORDER
        .iter()
        .position(|t| *t == transport)
        .unwrap_or(ORDER.len())
}

/// The name a reader sees in legends and tables.
pub fn label(transport: &str) -> &str {
    match transport {
        "tcp" => "raw TCP (floor)",
        "websocket" => "WebSocket",
        "sse" => "SSE",
        "long_poll" => "long polling",
        "short_poll" => "short polling",
        other => other,
    }
}

/// The transport's colour, the same in every chart.
pub fn colour(transport: &str) -> RGBColor {
    match transport {
        "tcp" => RGBColor(0x44, 0x44, 0x44),
        "websocket" => RGBColor(0x00, 0x72, 0xB2),
        "sse" => RGBColor(0x00, 0x9E, 0x73),
        "long_poll" => RGBColor(0xE6, 0x9F, 0x00),
        "short_poll" => RGBColor(0xCC, 0x3D, 0x8F),
        _ => RGBColor(0x88, 0x88, 0x88),
    }
}

/// The colour as CSS/SVG writes it: `#0072B2`.
pub fn colour_hex(transport: &str) -> String {
    let RGBColor(r, g, b) = colour(transport);
    format!("#{r:02X}{g:02X}{b:02X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_transport_has_its_own_colour() {
        let mut seen: Vec<String> = ORDER.iter().map(|t| colour_hex(t)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), ORDER.len());
        assert_eq!(colour_hex("websocket"), "#0072B2");
        assert!(rank("tcp") < rank("short_poll") && rank("short_poll") < rank("carrier_pigeon"));
    }
}
