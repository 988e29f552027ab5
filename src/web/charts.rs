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

/// Bins of `width` logits covering every value: (left edge of the first bin, counts).
fn logit_bins(values: &[f64], lo: f64, hi: f64, width: f64) -> Vec<usize> {
    let n = ((hi - lo) / width).ceil().max(1.0) as usize;
    let mut bins = vec![0usize; n];
    for v in values {
        let k = (((v - lo) / width).floor().max(0.0) as usize).min(n - 1);
        bins[k] += 1;
    }
    bins
}

/// The item map (Wright map): abilities of graded candidates above a logit axis, item
/// difficulties below it, both in 0.5-logit bins with their counts printed, and the adopted
/// cuts of the levels as labelled lines.
pub fn item_map(abilities: &[f64], difficulties: &[f64], cuts: &[(String, f64)], labels: (&str, &str, &str)) -> String {
    let all = abilities.iter().chain(difficulties).chain(cuts.iter().map(|c| &c.1)).copied().filter(|x| x.is_finite());
    let (mut lo, mut hi) = all.fold((-3.0f64, 3.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    lo = (lo * 2.0).floor() / 2.0;
    hi = (hi * 2.0).ceil() / 2.0 + 0.5;
    let width = 0.5;
    let pa = logit_bins(abilities, lo, hi, width);
    let pi = logit_bins(difficulties, lo, hi, width);
    let (left, w, half, mid_gap) = (50.0, 640.0, 150.0, 30.0);
    let axis_y = 20.0 + half;
    let scale_x = |t: f64| left + (t - lo) / (hi - lo) * w;
    let top_a = pa.iter().copied().max().unwrap_or(0).max(1) as f64;
    let top_i = pi.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bw = w / pa.len() as f64;
    let height = axis_y + mid_gap + half + 30.0;
    let (ab_label, it_label, axis_label) = labels;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="map-title" viewBox="0 0 {vw} {height}" width="100%" style="max-width:{vw}px" font-size="11">
<title id="map-title">{title}</title>"#,
        vw = left + w + 20.0,
        title = html_escape(&format!("{ab_label} / {it_label}")),
    );
    for (k, n) in pa.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let h = half * *n as f64 / top_a;
        let x = left + bw * k as f64;
        s.push_str(&format!(
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw1:.1}" height="{h:.1}" fill="#4a6fa5"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="middle">{n}</text>"##,
            y = axis_y - h,
            bw1 = bw - 2.0,
            tx = x + bw / 2.0,
            ty = axis_y - h - 3.0,
        ));
    }
    let base = axis_y + mid_gap;
    for (k, n) in pi.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let h = half * *n as f64 / top_i;
        let x = left + bw * k as f64;
        s.push_str(&format!(
            r##"<rect x="{x:.1}" y="{base:.1}" width="{bw1:.1}" height="{h:.1}" fill="#b26a00"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="middle">{n}</text>"##,
            bw1 = bw - 2.0,
            tx = x + bw / 2.0,
            ty = base + h + 11.0,
        ));
    }
    // the logit axis between the halves
    s.push_str(&format!(r##"<line x1="{left}" y1="{axis_y}" x2="{r}" y2="{axis_y}" stroke="#333"/><line x1="{left}" y1="{base}" x2="{r}" y2="{base}" stroke="#333"/>"##, r = left + w));
    let mut t = lo.ceil();
    while t <= hi {
        s.push_str(&format!(
            r##"<text x="{x:.1}" y="{y:.1}" text-anchor="middle">{t:+}</text>"##,
            x = scale_x(t),
            y = axis_y + mid_gap / 2.0 + 4.0
        ));
        t += 1.0;
    }
    s.push_str(&format!(
        r##"<text x="4" y="30">{a}</text><text x="4" y="{yb:.1}">{i}</text><text x="{xr:.1}" y="{ya:.1}" text-anchor="end">{axis}</text>"##,
        a = html_escape(ab_label),
        i = html_escape(it_label),
        yb = height - 12.0,
        xr = left + w,
        ya = axis_y + mid_gap / 2.0 + 4.0 - 12.0,
        axis = html_escape(axis_label),
    ));
    for (name, c) in cuts {
        let x = scale_x(*c);
        s.push_str(&format!(
            r##"<line x1="{x:.1}" y1="14" x2="{x:.1}" y2="{y2:.1}" stroke="#b3261e" stroke-dasharray="4 3"/><text x="{x:.1}" y="11" text-anchor="middle" fill="#b3261e">{name} {c:+.2}</text>"##,
            y2 = height - 24.0,
            name = html_escape(name),
        ));
    }
    s.push_str("</svg>");
    s
}

/// One item's Rasch curve P(θ) = 1/(1 + e^(b-θ)) with the observed proportion right of each
/// ability group (circles, with the group's size printed) and the difficulty marked.
pub fn item_curve(difficulty: f64, groups: &[(f64, f64, usize)], labels: (&str, &str)) -> String {
    let (lo, hi) = (
        difficulty.min(groups.iter().map(|g| g.0).fold(f64::INFINITY, f64::min)) - 2.0,
        difficulty.max(groups.iter().map(|g| g.0).fold(f64::NEG_INFINITY, f64::max)) + 2.0,
    );
    let (lo, hi) = (lo.clamp(-8.0, 0.0).floor(), hi.clamp(0.0, 8.0).ceil());
    let (left, top, w, h) = (40.0, 10.0, 480.0, 220.0);
    let x = |t: f64| left + (t - lo) / (hi - lo) * w;
    let y = |p: f64| top + (1.0 - p.clamp(0.0, 1.0)) * h;
    let (theta_label, p_label) = labels;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="icc-title" viewBox="0 0 {vw} {vh}" width="100%" style="max-width:{vw}px" font-size="11">
<title id="icc-title">{title}</title>"#,
        vw = left + w + 20.0,
        vh = top + h + 40.0,
        title = html_escape(&format!("{p_label} / {theta_label}")),
    );
    s.push_str(&format!(r##"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>"##));
    for p in [0.0, 0.25, 0.5, 0.75, 1.0] {
        s.push_str(&format!(r##"<text x="{tx}" y="{ty:.1}" text-anchor="end">{p:.2}</text>"##, tx = left - 4.0, ty = y(p) + 4.0));
    }
    let mut t = lo;
    while t <= hi {
        s.push_str(&format!(r##"<text x="{tx:.1}" y="{ty:.1}" text-anchor="middle">{t:+}</text>"##, tx = x(t), ty = top + h + 14.0));
        t += 1.0;
    }
    let steps = 80;
    let path: Vec<String> = (0..=steps)
        .map(|k| {
            let t = lo + (hi - lo) * k as f64 / steps as f64;
            let p = 1.0 / (1.0 + (difficulty - t).exp());
            format!("{}{:.1} {:.1}", if k == 0 { "M" } else { "L" }, x(t), y(p))
        })
        .collect();
    s.push_str(&format!(r##"<path d="{}" fill="none" stroke="#4a6fa5" stroke-width="2"/>"##, path.join(" ")));
    s.push_str(&format!(
        r##"<line x1="{bx:.1}" y1="{top}" x2="{bx:.1}" y2="{yb}" stroke="#b26a00" stroke-dasharray="4 3"/><text x="{bx:.1}" y="{ty}" text-anchor="middle" fill="#b26a00">b = {difficulty:+.2}</text>"##,
        bx = x(difficulty),
        yb = top + h,
        ty = top + 12.0,
    ));
    for (t, p, n) in groups {
        s.push_str(&format!(
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="5" fill="#fff" stroke="#b3261e" stroke-width="2"/><text x="{cx:.1}" y="{ty:.1}" text-anchor="middle">{p:.2} (n={n})</text>"##,
            cx = x(*t),
            cy = y(*p),
            ty = y(*p) - 8.0,
        ));
    }
    s.push_str(&format!(
        r##"<text x="{cx}" y="{ty}" text-anchor="middle">{theta}</text>"##,
        cx = left + w / 2.0,
        ty = top + h + 32.0,
        theta = html_escape(theta_label),
    ));
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

    #[test]
    fn item_map_and_curve_print_counts_escape_labels_and_place_the_difficulty() {
        let svg = super::item_map(&[0.1, 0.2, 1.3], &[-0.4, 0.3], &[("<基本级>".into(), 0.5)], ("a<b", "items", "logits"));
        assert!(svg.contains("&lt;基本级&gt; +0.50") && svg.contains("a&lt;b") && !svg.contains("<基本级>"));
        // two abilities in the 0–0.5 bin, one in 1–1.5
        assert!(svg.contains(">2</text>") && svg.contains(">1</text>"), "{svg}");
        let icc = super::item_curve(0.7, &[(0.0, 0.4, 12), (1.5, 0.8, 9)], ("θ", "P"));
        assert!(icc.contains("b = +0.70") && icc.contains("0.40 (n=12)") && icc.contains("0.80 (n=9)"), "{icc}");
        assert!(icc.matches("<circle").count() == 2 && icc.contains("<path d=\"M"));
    }
}
