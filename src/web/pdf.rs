//! Printable PDFs: certificates, training files and results lists. Every file embeds a subset
//! of Noto Serif CJK SC (templates/fonts/, SIL Open Font License) holding only the glyphs that
//! document uses: a CID-keyed CFF font (CIDFontType0, FontFile3 /CIDFontType0C) addressed
//! through Identity-H, with the font's real advance widths and a ToUnicode map, so the file
//! looks the same in every reader whether or not it has CJK fonts of its own, and its text can
//! be copied and searched. Lines are measured with the same widths for wrapping and centring.
//!
//! A character the font lacks (a rare name character outside GB 2312 and the 通用规范汉字表) is
//! not dropped: it is drawn as the font's .notdef box, so the gap shows on paper and can be
//! written in by hand, inside a marked-content span whose /ActualText is the character, so
//! copying and searching still give it; and the server logs a warning naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::LazyLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

const PAGE_W: f32 = 595.0; // A4
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 50.0;
const FONT: Name<'static> = Name(b"F1");

/// The committed font: GB 2312, the 通用规范汉字表, Latin, punctuation and every character of
/// the templates and sources (templates/fonts/README.md: what it covers and how it was made).
const FONT_PATH: &str = "fonts/NotoSerifCJKsc-Regular.subset.otf";

/// The committed font, from the templates embedded in the binary (one copy).
fn font_bytes() -> &'static [u8] {
    static FONT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FONT.get_or_init(|| crate::render::Assets::get(FONT_PATH).expect("the committed font is among the templates").data.into_owned())
}
const FONT_NAME: &str = "NotoSerifCJKsc-Regular";
/// CIDs are the subset's glyph ids (Identity), as subsetter writes CID-keyed CFF.
const IDENTITY: SystemInfo<'static> = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

/// The parsed font and its scale to PDF glyph space (1000 units to the em).
struct Font {
    face: Face<'static>,
    scale: f32,
}

static FACE: LazyLock<Font> = LazyLock::new(|| {
    let face = Face::parse(font_bytes(), 0).expect("the committed font templates/fonts/NotoSerifCJKsc-Regular.subset.otf parses");
    Font { scale: 1000.0 / f32::from(face.units_per_em()), face }
});

impl Font {
    fn glyph(&self, c: char) -> Option<GlyphId> {
        self.face.glyph_index(c).filter(|g| g.0 != 0)
    }

    /// Advance width of a glyph in thousandths of an em.
    fn advance(&self, g: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) * self.scale
    }
}

/// Characters a printout shows: control characters would be drawn as boxes, and user text never
/// needs them in a printout.
fn printable(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter(|c| !c.is_control())
}

/// Width of text at `size`, in points, from the font's advance widths (a character the font
/// lacks takes the width of the .notdef box it is drawn as).
fn width(text: &str, size: f32) -> f32 {
    let f = &*FACE;
    printable(text).map(|c| f.advance(f.glyph(c).unwrap_or(GlyphId(0)))).sum::<f32>() * size / 1000.0
}

/// Splits text into lines no wider than `max` points. Hanzi break anywhere; a Latin word (an
/// English label, a statute's name) moves whole to the next line when its line has a space
/// before it, and breaks between letters only when it is longer than a line.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for c in para.chars() {
            line.push(c);
            if width(&line, size) > max {
                line.pop();
                let in_word = c.is_ascii_alphanumeric() && line.ends_with(|p: char| p.is_ascii_alphanumeric());
                let space = line.rfind(' ').filter(|i| in_word && *i > 0 && line[i + 1..].chars().all(|p| p.is_ascii_alphanumeric()));
                let rest = match space {
                    Some(i) => {
                        let rest = line[i + 1..].to_string();
                        line.truncate(i);
                        rest
                    }
                    None => String::new(),
                };
                // the space a line breaks at is neither at its end nor at the next one's start
                line.truncate(line.trim_end_matches(' ').len());
                lines.push(std::mem::replace(&mut line, rest));
                if c != ' ' {
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// A stretch of a line as shown: glyphs of the font, or one character it lacks.
enum Run {
    Glyphs(Vec<u8>),
    Missing(char),
}

/// A document laid out top to bottom, broken into pages as it fills.
pub struct Doc {
    title: String,
    pages: Vec<Content>,
    y: f32,
    /// The font's glyphs this document uses, numbered in the subset in first-use order.
    glyphs: GlyphRemapper,
    /// Subset glyph id → the character it shows (the ToUnicode map).
    chars: BTreeMap<u16, char>,
    /// Characters the font lacks, drawn as .notdef.
    missing: BTreeSet<char>,
}

impl Doc {
    pub fn new(title: &str) -> Doc {
        let mut d = Doc {
            title: title.to_string(),
            pages: Vec::new(),
            y: 0.0,
            glyphs: GlyphRemapper::new(),
            chars: BTreeMap::new(),
            missing: BTreeSet::new(),
        };
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

    /// Text as subset glyph ids (two bytes each, Identity-H), recording each glyph's character
    /// for the ToUnicode map and each missing character.
    fn encode(&mut self, text: &str) -> Vec<Run> {
        let f = &*FACE;
        let mut runs = Vec::new();
        let mut bytes = Vec::new();
        for c in printable(text) {
            match f.glyph(c) {
                Some(g) => {
                    let cid = self.glyphs.remap(g.0);
                    self.chars.entry(cid).or_insert(c);
                    bytes.extend(cid.to_be_bytes());
                }
                None => {
                    if !bytes.is_empty() {
                        runs.push(Run::Glyphs(std::mem::take(&mut bytes)));
                    }
                    self.missing.insert(c);
                    runs.push(Run::Missing(c));
                }
            }
        }
        if !bytes.is_empty() {
            runs.push(Run::Glyphs(bytes));
        }
        runs
    }

    fn show(&mut self, page: usize, x: f32, y: f32, size: f32, text: &str) {
        let runs = self.encode(text);
        let c = &mut self.pages[page];
        c.begin_text();
        c.set_font(FONT, size);
        c.next_line(x, y);
        for run in runs {
            match run {
                Run::Glyphs(bytes) => {
                    c.show(Str(&bytes));
                }
                Run::Missing(ch) => {
                    let mut buf = [0; 4];
                    c.begin_marked_content_with_properties(Name(b"Span")).properties().actual_text(TextStr(ch.encode_utf8(&mut buf)));
                    c.show(Str(&[0, 0])); // .notdef, always glyph 0 of the subset
                    c.end_marked_content();
                }
            }
        }
        c.end_text();
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.show(self.pages.len() - 1, x, y, size, text);
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
            self.show(i, MARGIN, MARGIN / 2.0, 8.0, &footer);
        }
        for c in &self.missing {
            eprintln!(
                "PDF \"{}\": the embedded font has no glyph for {c} (U+{:04X}); printed as an empty box, copied and found as the character",
                self.title, *c as u32
            );
        }
        let mut pdf = Pdf::new();
        let (catalog, tree, font, cid, descriptor, info) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6));
        let (to_unicode, font_file) = (Ref::new(7), Ref::new(8));
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info).title(TextStr(&self.title)).creator(TextStr("lawcert"));
        let page_ids: Vec<Ref> = (0..n).map(|i| Ref::new(10 + 2 * i as i32)).collect();
        pdf.pages(tree).kids(page_ids.iter().copied()).count(n as i32);
        for (i, content) in std::mem::take(&mut self.pages).into_iter().enumerate() {
            let (page_id, content_id) = (page_ids[i], Ref::new(11 + 2 * i as i32));
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
            page.parent(tree);
            page.contents(content_id);
            page.resources().fonts().pair(FONT, font);
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        self.write_font(&mut pdf, font, cid, descriptor, to_unicode, font_file);
        pdf.finish()
    }

    /// The Type0 font with its CIDFontType0 descendant, descriptor, embedded subset (FontFile3,
    /// bare CFF, compressed) and ToUnicode map.
    fn write_font(&self, pdf: &mut Pdf, font: Ref, cid: Ref, descriptor: Ref, to_unicode: Ref, font_file: Ref) {
        let f = &*FACE;
        // subsetter numbers the glyphs as self.glyphs did and writes CID-keyed CFF with CID = glyph
        // id; the committed font is checked by the tests, so a failure here is a broken build
        let subset = subsetter::subset(font_bytes(), 0, &self.glyphs).expect("subsetting the committed font");
        let cff = ttf_parser::RawFace::parse(&subset, 0)
            .ok()
            .and_then(|raw| raw.table(ttf_parser::Tag::from_bytes(b"CFF ")))
            .expect("the subset of a CFF font has a CFF table");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(cff).expect("compressing into memory");
        let compressed = z.finish().expect("compressing into memory");

        // a subset's name carries a tag of six capitals that differs between subsets (PDF 9.6.4)
        let digest = Sha256::digest(self.glyphs.remapped_gids().flat_map(u16::to_be_bytes).collect::<Vec<u8>>());
        let tag: String = digest.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect();
        let base = format!("{tag}+{FONT_NAME}");
        let base = Name(base.as_bytes());

        pdf.type0_font(font).base_font(base).encoding_predefined(Name(b"Identity-H")).descendant_font(cid).to_unicode(to_unicode);
        let mut c = pdf.cid_font(cid);
        c.subtype(CidFontType::Type0).base_font(base).system_info(IDENTITY).font_descriptor(descriptor).default_width(1000.0);
        let widths: Vec<f32> = self.glyphs.remapped_gids().map(|g| f.advance(GlyphId(g)).round()).collect();
        c.widths().consecutive(0, widths);
        c.finish();

        let s = f.scale;
        let bbox = f.face.global_bounding_box();
        let (ascent, descent) = (f32::from(f.face.ascender()) * s, f32::from(f.face.descender()) * s);
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(FontFlags::SERIF | FontFlags::SYMBOLIC)
            .bbox(Rect::new(f32::from(bbox.x_min) * s, f32::from(bbox.y_min) * s, f32::from(bbox.x_max) * s, f32::from(bbox.y_max) * s))
            .italic_angle(0.0)
            .ascent(ascent)
            .descent(descent)
            .cap_height(f.face.capital_height().map_or(ascent, |h| f32::from(h) * s))
            .stem_v(80.0)
            .font_file3(font_file);
        pdf.stream(font_file, &compressed).filter(Filter::FlateDecode).pair(Name(b"Subtype"), Name(b"CIDFontType0C"));

        let mut cmap = UnicodeCmap::new(Name(b"lawcert-UCS"), IDENTITY);
        for (g, c) in &self.chars {
            cmap.pair(*g, *c);
        }
        pdf.cmap(to_unicode, &cmap.finish()).name(Name(b"lawcert-UCS")).system_info(IDENTITY);
    }
}

/// Reads the text back out of the PDFs this module writes (shared with the journeys).
#[cfg(test)]
#[path = "../../tests/pdf/text.rs"]
mod pdf_text;

#[cfg(test)]
mod tests {
    use super::pdf_text::{streams, text as extracted_text};
    use super::*;

    /// The embedded font program (FontFile3), inflated.
    fn embedded_font(pdf: &[u8]) -> Vec<u8> {
        let (_, data) =
            streams(pdf).into_iter().find(|(dict, _)| dict.contains("/Subtype /CIDFontType0C")).expect("a FontFile3 CFF stream");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(data), &mut out).expect("a zlib stream");
        out
    }

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
        // the font is embedded (a CFF subset behind Identity-H with a ToUnicode map), not named
        assert!(!text.contains("STSong") && !text.contains("UniGB"), "no reader-supplied font");
        assert!(text.contains("/FontFile3") && text.contains("/Subtype /CIDFontType0C"), "the font program is embedded");
        assert!(text.contains("/Encoding /Identity-H") && text.contains("/ToUnicode"), "glyph ids with a ToUnicode map");
        assert!(text.contains("+NotoSerifCJKsc-Regular"), "a tagged subset name");
        assert!(
            text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count() >= 2
                || text.contains("/Count 3")
                || text.contains("/Count 2"),
            "120 rows need more than one page"
        );
        assert!(extracted_text(&bytes).contains("2026年9—10月执法知识双月考 <script>"), "the text is in the content streams");
        // the embedded subset is a small part of the committed font
        let font = embedded_font(&bytes);
        assert!(font.starts_with(&[1, 0]), "a bare CFF font program");
        assert!(font.len() * 20 < font_bytes().len(), "{} bytes of a {} byte font", font.len(), font_bytes().len());
        assert!(bytes.len() < 200_000, "the whole file is {} bytes", bytes.len());
    }

    #[test]
    fn widths_are_the_fonts_advances_and_cover_every_glyph_used() {
        let f = &*FACE;
        // proportional Latin: "i" is narrower than "W", a hanzi takes the full em
        assert!(width("i", 10.0) < width("W", 10.0));
        assert_eq!(width("执", 10.0), 10.0);
        assert_eq!(width("执法", 12.0), 24.0);
        let mut d = Doc::new("W");
        d.text("Wi执法", 10.0);
        let bytes = d.finish();
        let text = String::from_utf8_lossy(&bytes);
        let w = text.find("/W [0 [").map(|a| &text[a + 7..]).expect("a W array from glyph 0");
        let widths: Vec<f32> = w[..w.find(']').expect("end")].split_whitespace().map(|x| x.parse().expect("a number")).collect();
        // .notdef, then the glyphs in first use: W, i, 执, 法, and the footer's " ", "·", "1", "/"
        assert_eq!(widths.len(), 9);
        let adv = |c: char| f.advance(f.glyph(c).expect("in the font")).round();
        assert_eq!(&widths[1..5], &[adv('W'), adv('i'), 1000.0, 1000.0]);
    }

    #[test]
    fn a_character_the_font_lacks_shows_as_a_box_and_copies_as_itself() {
        // 𪚥 (U+2A6A5, CJK extension B) is in neither GB 2312 nor the 通用规范汉字表
        let rare = '\u{2A6A5}';
        assert!(FACE.glyph(rare).is_none(), "the test needs a character outside the font");
        let mut d = Doc::new("证书");
        d.centred(&format!("张{rare}明（警号 100001）"), 16.0);
        assert_eq!(d.missing.iter().collect::<Vec<_>>(), vec![&rare], "recorded for the warning");
        let bytes = d.finish();
        let text = String::from_utf8_lossy(&bytes);
        let at = text.find("/ActualText").expect("an ActualText span");
        assert!(text.contains("/Span <<\n  /ActualText <FEFFD869DEA5>\n>> BDC"), "{}", &text[at - 20..at + 60]);
        assert!(text.contains("<0000> Tj") || text.contains("(\\000\\000) Tj"), ".notdef is drawn");
        let copied = extracted_text(&bytes);
        assert!(copied.contains(&format!("张{rare}明（警号 100001）")), "{copied}");
        // the box takes the .notdef advance, so centring still accounts for it
        assert!(width(&rare.to_string(), 10.0) > 0.0);
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
        // Latin wraps by its real, narrower widths: more than twice as many "i" fit as hanzi
        let lines = wrap(&"i".repeat(200), 10.0, 100.0);
        assert!(lines[0].chars().count() > 20 && lines.iter().all(|l| width(l, 10.0) <= 100.0), "{}", lines[0].len());
        // and breaks between words, not inside one; hanzi still break anywhere
        let text = "Law enforcement training file of officer 100001, with proportional Latin text";
        let lines = wrap(text, 10.0, 100.0);
        assert!(lines.len() > 2 && lines.iter().all(|l| width(l, 10.0) <= 100.0), "{lines:?}");
        let words: Vec<&str> = text.split(' ').collect();
        assert_eq!(lines.iter().flat_map(|l| l.split(' ')).collect::<Vec<_>>(), words, "{lines:?}");
        for max in [50.0, 60.0, 70.0, 80.0, 90.0] {
            let lines = wrap("执法知识双月考 Passed 执法知识双月考", 10.0, max);
            assert!(lines.iter().any(|l| l.contains("Passed")), "{lines:?}");
            assert!(lines.iter().all(|l| !l.starts_with(' ') && !l.ends_with(' ') && width(l, 10.0) <= max), "{lines:?}");
            assert_eq!(lines.concat().replace(' ', ""), "执法知识双月考Passed执法知识双月考");
        }
    }

    /// The reference rendering .ci/pdf-check compares against (regenerate it, after looking at
    /// the new image, with LAWCERT_PDF_REFERENCE_UPDATE=1 .ci/pdf-check).
    const REFERENCE: &str = "tests/pdf/certificate-reference.png";
    /// Rendering resolution: A4 at 72 dpi is 595 × 842 pixels, enough for 8 pt text.
    const DPI: &str = "72";
    /// A pixel differs when its grey level is off by more than a quarter of the range: a glyph
    /// edge anti-aliased a little differently by another poppler or FreeType stays under it.
    const PIXEL_TOLERANCE: u8 = 64;
    /// At most this share of the page's pixels may differ (0.01 %, 50 of 500,990). Measured when
    /// the reference was made (poppler 22.12, 72 dpi, grey): the same file rendered again, or
    /// with poppler-data and the system's fonts back, differs in 0 pixels; one hanzi of the name
    /// replaced by another of the same width (张 → 章) in 118 (0.024 %); the badge's last digit
    /// changed, which moves the centred line, in 661 (0.13 %); the text not drawn at all (only
    /// the QR code), in 7,150 (1.4 %). So any changed, missing or boxed glyph fails, while a few
    /// anti-aliased edge pixels pass; a poppler or FreeType that hints differently needs a new
    /// reference, looked at first.
    const SHARE_TOLERANCE: f64 = 0.0001;

    fn certificate() -> Vec<u8> {
        // the layout of web::certification's certificate download, with fixed data
        let url = "https://lawcert.example/verify?number=JZ-2026-B-000001&code=K7QX2M9P";
        let mut d = Doc::new("执法资格证书 JZ-2026-B-000001");
        d.gap(60.0);
        d.centred("执法资格等级证书", 26.0);
        d.gap(30.0);
        d.centred("张伟明（警号 100001）", 16.0);
        d.centred("江州市公安局 城东分局 执法办案中心", 12.0);
        d.gap(20.0);
        d.centred("经考试合格，取得中级执法资格。", 14.0);
        d.gap(20.0);
        d.centred("证书编号：JZ-2026-B-000001", 12.0);
        d.centred("颁发日期：2026-12-03　有效期至：2029-12-02", 12.0);
        d.gap(30.0);
        d.qr(url, 150.0);
        d.centred("验证码：K7QX2M9P", 11.0);
        d.centred("扫码或登录平台“证书验证”页面核验真伪", 9.0);
        d.centred(url, 8.0);
        d.finish()
    }

    fn run(program: &str, args: &[&str]) -> String {
        let out = std::process::Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program} ({e}): run this test through .ci/pdf-check, which installs poppler-utils"));
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    fn grey(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut buf).expect("a PNG frame");
        let channels = info.color_type.samples();
        let pixels = buf[..info.buffer_size()].chunks(channels).map(|p| p[0]).collect();
        (info.width, info.height, pixels)
    }

    /// The certificate rendered by poppler without poppler-data and without system fonts (both
    /// arranged by .ci/pdf-check) looks like the committed reference, its fonts are all embedded,
    /// and its Chinese text comes back out as text.
    #[test]
    #[ignore = "needs poppler-utils; run by .ci/pdf-check"]
    fn a_certificate_renders_like_the_reference_without_the_readers_cjk_data() {
        let poppler_data = std::fs::read_dir("/usr/share/poppler").map(|d| d.count()).unwrap_or(0);
        assert_eq!(poppler_data, 0, "poppler's CJK data is visible at /usr/share/poppler: run this test through .ci/pdf-check");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pdf-check");
        std::fs::create_dir_all(&dir).expect("target/pdf-check");
        let pdf = dir.join("certificate.pdf");
        let bytes = certificate();
        std::fs::write(&pdf, &bytes).expect("writing the PDF");
        let pdf_s = pdf.to_str().expect("a UTF-8 path");
        println!("certificate: {} bytes", bytes.len());

        // every font is embedded (pdffonts: name type encoding emb sub uni object ID)
        let fonts = run("pdffonts", &[pdf_s]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty(), "{fonts}");
        for row in &rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            assert!(cols[0].ends_with("+NotoSerifCJKsc-Regular") && cols.contains(&"Identity-H"), "{fonts}");
            let n = cols.len();
            assert_eq!(&cols[n - 5..n - 2], &["yes", "yes", "yes"], "embedded, subset, with a ToUnicode map: {fonts}");
        }

        // the text round-trips
        let text = run("pdftotext", &["-enc", "UTF-8", pdf_s, "-"]);
        for line in [
            "执法资格等级证书",
            "张伟明（警号 100001）",
            "江州市公安局 城东分局 执法办案中心",
            "经考试合格，取得中级执法资格。",
            "证书编号：JZ-2026-B-000001",
            "验证码：K7QX2M9P",
            "扫码或登录平台“证书验证”页面核验真伪",
        ] {
            assert!(text.contains(line), "pdftotext lacks {line:?}:\n{text}");
        }

        // the rendering matches the reference
        let prefix = dir.join("certificate");
        run("pdftoppm", &["-r", DPI, "-gray", "-png", "-singlefile", pdf_s, prefix.to_str().expect("a UTF-8 path")]);
        let rendered = dir.join("certificate.png");
        let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(REFERENCE);
        if std::env::var_os("LAWCERT_PDF_REFERENCE_UPDATE").is_some() {
            std::fs::copy(&rendered, &reference).expect("updating the reference");
        }
        let (w, h, got) = grey(&rendered);
        let (rw, rh, want) = grey(&reference);
        assert_eq!((w, h), (rw, rh), "the rendering's size");
        let differing = got.iter().zip(&want).filter(|(a, b)| a.abs_diff(**b) > PIXEL_TOLERANCE).count();
        let share = differing as f64 / got.len() as f64;
        println!("{differing} of {} pixels differ ({:.4} %)", got.len(), share * 100.0);
        assert!(
            share <= SHARE_TOLERANCE,
            "{differing} pixels ({:.3} %) differ from {REFERENCE}: look at {}",
            share * 100.0,
            rendered.display()
        );
        // and the text is drawn: with it 2.2 % of the page is inked, the QR code alone 1.4 %
        let ink = got.iter().filter(|p| **p < 128).count() as f64 / got.len() as f64;
        assert!(ink > 0.018, "only {:.2} % of the page is inked", ink * 100.0);
    }
}
