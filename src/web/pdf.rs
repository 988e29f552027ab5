//! Printable PDFs (training files; later certificates and results lists). Chinese text uses
//! the standard Adobe-GB1 font STSong-Light through the UniGB-UTF16-H CMap, which PDF readers
//! supply themselves, so no font has to ship with the binary: every reader in use in the
//! bureau (Acrobat, WPS, browsers' viewers, poppler with its CJK data) renders it.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_W: f32 = 595.0; // A4
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const FONT: Name<'static> = Name(b"F1");

/// A document laid out top to bottom, broken into pages as it fills.
pub struct Doc {
    title: String,
    pages: Vec<Content>,
    y: f32,
}

/// Width of text at `size`, in points: CJK and other wide characters take a full em, ASCII
/// half (the font's proportional Latin is narrower; half an em never overflows).
fn width(text: &str, size: f32) -> f32 {
    text.chars().map(|c| if c.is_ascii() { 0.5 } else { 1.0 }).sum::<f32>() * size
}

/// Splits text into lines no wider than `max` points.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for c in para.chars() {
            line.push(c);
            if width(&line, size) > max {
                line.pop();
                lines.push(std::mem::take(&mut line));
                line.push(c);
            }
        }
        lines.push(line);
    }
    lines
}

fn utf16(text: &str) -> Vec<u8> {
    // control characters would be drawn as boxes; user text never needs them in a printout
    text.chars().filter(|c| !c.is_control()).collect::<String>().encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

impl Doc {
    pub fn new(title: &str) -> Doc {
        let mut d = Doc { title: title.to_string(), pages: Vec::new(), y: 0.0 };
        d.new_page();
        d
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = PAGE_H - MARGIN;
    }

    fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let bytes = utf16(text);
        let c = self.pages.last_mut().expect("a page");
        c.begin_text();
        c.set_font(FONT, size);
        c.next_line(x, y);
        c.show(Str(&bytes));
        c.end_text();
    }

    /// A line of text (wrapped to the page width).
    pub fn text(&mut self, text: &str, size: f32) {
        for line in wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            self.ensure(size * 1.5);
            self.y -= size * 1.5;
            self.text_at(MARGIN, self.y, size, &line);
        }
    }

    pub fn heading(&mut self, text: &str) {
        self.gap(6.0);
        self.text(text, 15.0);
        self.gap(2.0);
    }

    pub fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    /// A table: `widths` are column shares of the page width; cells wrap within their column
    /// and the header repeats on every page.
    pub fn table(&mut self, headers: &[&str], widths: &[f32], rows: &[Vec<String>]) {
        let size = 9.0;
        let total: f32 = widths.iter().sum();
        let cols: Vec<f32> = widths.iter().map(|w| w / total * (PAGE_W - 2.0 * MARGIN)).collect();
        let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        self.row(&header, &cols, size, true);
        for r in rows {
            let lines = r.iter().zip(&cols).map(|(cell, w)| wrap(cell, size, w - 4.0).len()).max().unwrap_or(1);
            if self.y - lines as f32 * size * 1.4 - 4.0 < MARGIN {
                self.new_page();
                self.row(&header, &cols, size, true);
            }
            self.row(r, &cols, size, false);
        }
    }

    fn row(&mut self, cells: &[String], cols: &[f32], size: f32, bold: bool) {
        let wrapped: Vec<Vec<String>> = cells.iter().zip(cols).map(|(c, w)| wrap(c, size, w - 4.0)).collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let h = lines as f32 * size * 1.4 + 4.0;
        self.ensure(h);
        let top = self.y;
        let mut x = MARGIN;
        for (cell, w) in wrapped.iter().zip(cols) {
            for (i, line) in cell.iter().enumerate() {
                self.text_at(x + 2.0, top - 2.0 - size * 1.15 - i as f32 * size * 1.4, size, line);
            }
            x += w;
        }
        let c = self.pages.last_mut().expect("a page");
        c.set_line_width(if bold { 0.8 } else { 0.3 });
        c.move_to(MARGIN, top - h);
        c.line_to(PAGE_W - MARGIN, top - h);
        c.stroke();
        self.y = top - h;
    }

    /// Centred text.
    pub fn centred(&mut self, text: &str, size: f32) {
        self.ensure(size * 1.6);
        self.y -= size * 1.6;
        let x = ((PAGE_W - width(text, size)) / 2.0).max(MARGIN);
        self.text_at(x, self.y, size, text);
    }

    /// A QR code of `data`, `side` points wide, centred; its modules are filled squares, so any
    /// reader's phone camera can scan the printout.
    pub fn qr(&mut self, data: &str, side: f32) {
        let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else { return };
        let n = code.width();
        let quiet = 4.0; // the standard quiet zone, in modules
        let module = side / (n as f32 + 2.0 * quiet);
        self.ensure(side + 10.0);
        let (x0, top) = ((PAGE_W - side) / 2.0 + quiet * module, self.y - 5.0 - quiet * module);
        let c = self.pages.last_mut().expect("a page");
        for (i, colour) in code.to_colors().iter().enumerate() {
            if *colour == qrcode::Color::Dark {
                let (row, col) = ((i / n) as f32, (i % n) as f32);
                c.rect(x0 + col * module, top - (row + 1.0) * module, module, module);
            }
        }
        c.fill_nonzero();
        self.y -= side + 10.0;
    }

    /// The finished file, with page numbers in the footer.
    pub fn finish(mut self) -> Vec<u8> {
        let n = self.pages.len();
        for i in 0..n {
            let footer = format!("{} · {}/{}", self.title, i + 1, n);
            let bytes = utf16(&footer);
            let c = &mut self.pages[i];
            c.begin_text();
            c.set_font(FONT, 8.0);
            c.next_line(MARGIN, MARGIN / 2.0);
            c.show(Str(&bytes));
            c.end_text();
        }
        let mut pdf = Pdf::new();
        let (catalog, tree, font, cid, descriptor, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info).title(TextStr(&self.title)).creator(TextStr("lawcert"));
        let page_ids: Vec<Ref> = (0..n).map(|i| Ref::new(10 + 2 * i as i32)).collect();
        pdf.pages(tree).kids(page_ids.iter().copied()).count(n as i32);
        for (i, content) in self.pages.into_iter().enumerate() {
            let (page_id, content_id) = (page_ids[i], Ref::new(11 + 2 * i as i32));
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
            page.parent(tree);
            page.contents(content_id);
            page.resources().fonts().pair(FONT, font);
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        pdf.type0_font(font).base_font(Name(b"STSong-Light")).encoding_predefined(Name(b"UniGB-UTF16-H")).descendant_font(cid);
        let mut f = pdf.cid_font(cid);
        f.subtype(CidFontType::Type0)
            .base_font(Name(b"STSong-Light"))
            .system_info(SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"GB1"), supplement: 4 })
            .font_descriptor(descriptor)
            .default_width(1000.0);
        // Adobe-GB1 CIDs 1–95 are the proportional Latin set the CMap maps ASCII to
        f.widths().same(1, 95, 500.0);
        f.finish();
        pdf.font_descriptor(descriptor)
            .name(Name(b"STSong-Light"))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
            .italic_angle(0.0)
            .ascent(880.0)
            .descent(-120.0)
            .cap_height(880.0)
            .stem_v(93.0);
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_breaks_into_pages_and_carries_the_text() {
        let mut d = Doc::new("训练档案");
        d.heading("民警训练档案");
        let rows: Vec<Vec<String>> =
            (0..120).map(|i| vec![i.to_string(), "2026年9—10月执法知识双月考 <script>".into(), "合格".into()]).collect();
        d.table(&["#", "内容", "结果"], &[1.0, 6.0, 2.0], &rows);
        let bytes = d.finish();
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/STSong-Light") && text.contains("/UniGB-UTF16-H"));
        assert!(
            text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count() >= 2
                || text.contains("/Count 3")
                || text.contains("/Count 2"),
            "120 rows need more than one page"
        );
        let hex: String = "双月考".encode_utf16().map(|u| format!("{u:04X}")).collect();
        assert!(text.to_uppercase().contains(&hex), "the text is in the content streams");
    }

    #[test]
    fn a_qr_code_is_drawn_as_filled_modules() {
        let mut d = Doc::new("证书");
        d.qr("https://lawcert.example/verify?number=JZ-2026-B-000001&code=ABCD1234", 150.0);
        let text = String::from_utf8_lossy(&d.finish()).to_string();
        // each dark module is a rectangle; a version-4+ code has hundreds
        assert!(text.matches(" re\n").count() > 200, "{}", text.matches(" re\n").count());
        assert!(text.contains("\nf\n") || text.contains(" f\n"), "the rectangles are filled");
    }

    #[test]
    fn long_text_wraps_within_the_width() {
        let lines = wrap(&"执".repeat(100), 10.0, 100.0);
        assert!(lines.iter().all(|l| width(l, 10.0) <= 100.0));
        assert_eq!(lines.concat().chars().count(), 100);
    }
}
