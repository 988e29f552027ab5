//! Server-rendered SVG charts: no script, readable without colour (values are printed), and
//! every label escaped.

use handlebars::html_escape;

/// Horizontal bars of the share lacking 基本级 per unit, with the warn and cap thresholds.
pub fn lacking_basic_bars(rows: &[(String, i32)], warn: i32, cap: i32) -> String {
    let (label_w, bar_w, row_h) = (180.0, 360.0, 26.0);
    // the two threshold labels sit on two lines under the bars, so close bands (10 % and 20 %
    // are 36 px apart) never print over each other
    let height = row_h * rows.len() as f64 + 64.0;
    let x = |pct: i32| label_w + bar_w * f64::from(pct.clamp(0, 100)) / 100.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="lb-title" viewBox="0 0 {w} {height}" width="100%" style="max-width:{w}px" font-size="13">
<title id="lb-title">未取得基本级比例 / share without 基本级</title>"#,
        w = label_w + bar_w + 60.0
    );
    for (i, (name, pct)) in rows.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let fill = if *pct > cap {
            "#b3261e"
        } else if *pct > warn {
            "#b26a00"
        } else {
            "#2e7d32"
        };
        s.push_str(&format!(
            r#"<text x="{tx}" y="{ty}" text-anchor="end">{name}</text><rect x="{label_w}" y="{y}" width="{bw:.1}" height="{h}" fill="{fill}"/><text x="{vx:.1}" y="{ty}">{pct}%</text>"#,
            tx = label_w - 6.0,
            ty = y + 15.0,
            name = html_escape(name),
            bw = x(*pct) - label_w,
            h = row_h - 8.0,
            vx = x(*pct) + 4.0,
        ));
    }
    let bottom = 10.0 + row_h * rows.len() as f64;
    for (line, (pct, label, colour)) in [(warn, "警示", "#b26a00"), (cap, "上限", "#b3261e")].into_iter().enumerate() {
        // a label near either end is anchored inwards so it stays inside the chart
        let anchor = match pct {
            p if p <= 8 => "start",
            p if p >= 92 => "end",
            _ => "middle",
        };
        s.push_str(&format!(
            r#"<line x1="{x:.1}" y1="4" x2="{x:.1}" y2="{ly2}" stroke="{colour}" stroke-dasharray="4 3"/><text x="{x:.1}" y="{ly}" text-anchor="{anchor}" fill="{colour}">{label} {pct}%</text>"#,
            x = x(pct),
            ly = bottom + 18.0 + 24.0 * line as f64,
            ly2 = bottom + 5.0 + 24.0 * line as f64,
        ));
    }
    s.push_str("</svg>");
    s
}

/// A semicircle gauge for a percentage.
pub fn gauge(pct: i32) -> String {
    let p = f64::from(pct.clamp(0, 100)) / 100.0;
    let angle = std::f64::consts::PI * (1.0 - p);
    let (cx, cy, r) = (60.0, 60.0, 50.0);
    let (ex, ey) = (cx + r * angle.cos(), cy - r * angle.sin());
    let colour = if pct >= 90 {
        "#2e7d32"
    } else if pct >= 70 {
        "#b26a00"
    } else {
        "#b3261e"
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 75" width="120" height="75" aria-hidden="true"><path d="M10 60 A50 50 0 0 1 110 60" fill="none" stroke="#ddd" stroke-width="12"/><path d="M10 60 A50 50 0 0 1 {ex:.2} {ey:.2}" fill="none" stroke="{colour}" stroke-width="12"/><text x="60" y="58" text-anchor="middle" font-size="18" font-weight="bold">{pct}%</text></svg>"##
    )
}

/// Score distribution: how many candidates scored in each tenth of the maximum, with the pass
/// mark drawn. `percents` are each candidate's score as a per cent of the maximum.
pub fn score_histogram(percents: &[f64], pass_percent: i32) -> String {
    let mut bins = [0usize; 10];
    for p in percents {
        bins[((p / 10.0).floor() as usize).min(9)] += 1;
    }
    let top = bins.iter().copied().max().unwrap_or(0).max(1) as f64;
    // the pass mark's label has a line of its own under the ranges' labels
    let (w, h, left, bottom) = (520.0, 200.0, 30.0, 44.0);
    let bw = (w - left) / 10.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="hist-title" viewBox="0 0 {w} {vh}" width="100%" style="max-width:{w}px" font-size="11">
<title id="hist-title">成绩分布 / score distribution</title>"#,
        vh = h + bottom
    );
    for (i, n) in bins.iter().enumerate() {
        let bh = (h - 20.0) * *n as f64 / top;
        let x = left + bw * i as f64;
        let fill = if ((i + 1) * 10) as i32 <= pass_percent { "#b26a00" } else { "#2e7d32" };
        s.push_str(&format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bwi:.1}" height="{bh:.1}" fill="{fill}"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="middle">{n}</text><text x="{tx:.1}" y="{ly:.1}" text-anchor="middle">{lo}–{hi}</text>"#,
            y = h - bh,
            bwi = bw - 4.0,
            tx = x + (bw - 4.0) / 2.0,
            ty = h - bh - 3.0,
            ly = h + 14.0,
            lo = i * 10,
            hi = i * 10 + 10,
        ));
    }
    let px = left + (w - left) * f64::from(pass_percent.clamp(0, 100)) / 100.0;
    s.push_str(&format!(
        r##"<line x1="{px:.1}" y1="0" x2="{px:.1}" y2="{h}" stroke="#b3261e" stroke-dasharray="4 3"/><text x="{px:.1}" y="{ly}" text-anchor="middle" fill="#b3261e">{pass_percent}%</text></svg>"##,
        ly = h + 36.0
    ));
    s
}

/// Per-statute share answered right, weakest first: one labelled bar each (a weakness map).
pub fn strength_bars(rows: &[(String, i32, usize)]) -> String {
    let (label_w, bar_w, row_h) = (200.0, 300.0, 24.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="sb-title" viewBox="0 0 {w} {height}" width="100%" style="max-width:{w}px" font-size="12">
<title id="sb-title">各法律答对率 / share right per statute</title>"#,
        w = label_w + bar_w + 90.0
    );
    for (i, (name, pct, n)) in rows.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let fill = if *pct >= 80 {
            "#2e7d32"
        } else if *pct >= 60 {
            "#b26a00"
        } else {
            "#b3261e"
        };
        s.push_str(&format!(
            r##"<text x="{tx}" y="{ty}" text-anchor="end">{name}</text><rect x="{label_w}" y="{y}" width="{bar_w}" height="{h}" fill="#eee"/><rect x="{label_w}" y="{y}" width="{bw:.1}" height="{h}" fill="{fill}"/><text x="{vx}" y="{ty}">{pct}% ({n})</text>"##,
            tx = label_w - 6.0,
            ty = y + 14.0,
            name = html_escape(name),
            h = row_h - 6.0,
            bw = bar_w * f64::from((*pct).clamp(0, 100)) / 100.0,
            vx = label_w + bar_w + 6.0,
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_escaped_and_bars_scale() {
        let svg = super::lacking_basic_bars(&[("<script>x</script>".into(), 50), ("B".into(), 0)], 10, 20);
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
        assert!(svg.contains(r#"width="180.0""#), "50 % of 360 px: {svg}");
        assert!(svg.contains("#b3261e"), "over the cap is red");
        assert!(super::gauge(100).contains("100%"));
    }

    #[test]
    fn the_two_band_labels_are_on_lines_of_their_own() {
        let svg = super::lacking_basic_bars(&[("A".into(), 15)], 10, 20);
        let y_of = |label: &str| {
            let at = svg.find(label).unwrap_or_else(|| panic!("{label} in {svg}"));
            let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
            tag.split("y=\"").nth(1).unwrap().split('"').next().unwrap().parse::<f64>().unwrap()
        };
        assert!(y_of("上限 20%") - y_of("警示 10%") >= 16.0, "{svg}");
    }

    #[test]
    fn histogram_counts_each_tenth_and_map_escapes_names() {
        let svg = super::score_histogram(&[5.0, 55.0, 59.9, 100.0, 95.0], 60);
        // bins 0–10: 1, 50–60: 2, 90–100: 2 (a full score falls in the top bin)
        assert!(svg.contains(">2</text><text") && svg.contains("90–100"), "{svg}");
        let map = super::strength_bars(&[("<刑法>".into(), 40, 10)]);
        assert!(map.contains("&lt;刑法&gt;") && map.contains("40% (10)"));
    }
}
