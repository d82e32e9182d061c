//! What every view says about a transport, read from its spec ([`rtbench_proto::TransportSpec`]):
//! its place in the order ([`Transport::ALL`]), the name a reader sees, and the one colour it has
//! in every chart (Okabe–Ito palette, distinguishable with colour blindness).

use plotters::style::RGBColor;
use rtbench_results::Transport;

/// Sort key: [`Transport::ALL`] order, floor first.
pub fn rank(transport: Transport) -> usize {
    transport.index()
}

/// The name a reader sees in legends and tables.
pub fn label(transport: Transport) -> &'static str {
    transport.label()
}

/// The transport's colour, the same in every chart.
pub fn colour(transport: Transport) -> RGBColor {
    let [r, g, b] = transport.spec().colour;
    RGBColor(r, g, b)
}

/// The colour as CSS/SVG writes it: `#0072B2`.
pub fn colour_hex(transport: Transport) -> String {
    let RGBColor(r, g, b) = colour(transport);
    format!("#{r:02X}{g:02X}{b:02X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_the_specs_as_css() {
        assert_eq!(colour_hex(Transport::WebSocket), "#0072B2");
        assert!(rank(Transport::FLOOR) < rank(Transport::ShortPoll));
    }
}
