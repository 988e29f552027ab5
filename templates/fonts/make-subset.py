#!/usr/bin/env python3
"""Makes templates/fonts/NotoSerifCJKsc-Regular.subset.otf, the font every PDF the platform writes
embeds a per-document subset of (src/web/pdf.rs), and OFL.txt beside it.

An offline step, run by hand when the character set should change; the server needs only the
committed output. Needs Debian's fonts-noto-cjk (the font) and unicode-data (the Unihan
database with the 通用规范汉字表 positions), and PyPI's fonttools (pyftsubset):

    apt-get install -y fonts-noto-cjk unicode-data && pip install fonttools
    python3 templates/fonts/make-subset.py

The character set (README.md beside this file says why):
  - every character of GB 2312 (6,763 hanzi plus its symbols, Greek, Cyrillic, kana, box drawing),
  - the 8,105 hanzi of the 通用规范汉字表 (2013), those with a kTGH entry in Unihan,
  - printable ASCII and Latin-1, general punctuation, CJK symbols and punctuation, full-width
    forms, enclosed numbers,
  - every character that occurs in templates/ (with templates/locales/), src/ and questions/,
    so the labels the server prints and the question banks' text are always covered.
"""
import bz2
import glob
import os
import re
import subprocess
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SOURCE = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
SOURCE_INDEX = 2  # JP, KR, SC, TC, HK: the simplified Chinese face
OUT = os.path.join(HERE, "NotoSerifCJKsc-Regular.subset.otf")
DEBIAN_COPYRIGHT = "/usr/share/doc/fonts-noto-cjk/copyright"


def gb2312():
    chars = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def tongyong_guifan():
    chars = set()
    for path in glob.glob("/usr/share/unicode/Unihan_*.txt.bz2"):
        with bz2.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if "\tkTGH\t" in line:
                    chars.add(chr(int(line.split("\t", 1)[0][2:], 16)))
    if len(chars) != 8105:
        sys.exit(f"expected the 8,105 hanzi of the 通用规范汉字表 in Unihan (kTGH), found {len(chars)}")
    return chars


def ranges():
    spans = [
        (0x0020, 0x007E), (0x00A0, 0x00FF),  # ASCII, Latin-1
        (0x2010, 0x2027), (0x2030, 0x205E),  # general punctuation
        (0x2460, 0x24FF),  # enclosed alphanumerics ①
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF01, 0xFF5E), (0xFFE0, 0xFFE6),  # full-width forms
    ]
    return {chr(c) for a, b in spans for c in range(a, b + 1)}


def repo_text():
    chars = set()
    for top in ("templates", "src", "questions"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                try:
                    with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                        chars.update(f.read())
                except (UnicodeDecodeError, OSError):
                    pass
    return {c for c in chars if ord(c) > 0x7F}


def licence():
    text = open(DEBIAN_COPYRIGHT, encoding="utf-8").read()
    body = re.search(r"^License: SIL-1\.1\n((?: .*\n)+)", text, re.M).group(1)
    lines = [l[1:] if l.startswith(" ") else l for l in body.splitlines()]
    lines = ["" if l == "." else l for l in lines]
    head = ("Noto Serif CJK SC: Copyright © 2017-2022 Adobe (http://www.adobe.com/), as its name table says.\n"
            "The file NotoSerifCJKsc-Regular.subset.otf beside this one is a Modified Version (a subset, see\n"
            "README.md) of Noto Serif CJK SC Regular 2.001, distributed under the licence below.\n\n")
    with open(os.path.join(HERE, "OFL.txt"), "w", encoding="utf-8") as f:
        f.write(head + "\n".join(lines).strip("\n") + "\n")


def main():
    chars = gb2312() | tongyong_guifan() | ranges() | repo_text()
    # no control characters (pyftsubset reads the file as text); every space character stays
    chars = sorted(c for c in chars if unicodedata.category(c) not in ("Cc", "Cs", "Cn", "Co"))
    text_file = os.path.join(HERE, ".subset-chars.txt")
    with open(text_file, "w", encoding="utf-8") as f:
        f.write("".join(chars))
    try:
        subprocess.run(
            ["pyftsubset", SOURCE, f"--font-number={SOURCE_INDEX}", f"--text-file={text_file}",
             "--layout-features=", "--name-IDs=0,1,2,3,4,5,6,13,14", "--drop-tables+=vhea,vmtx,VORG,BASE",
             f"--output-file={OUT}"],
            check=True,
        )
    finally:
        os.remove(text_file)
    licence()
    print(f"{len(chars)} characters asked for; {OUT}: {os.path.getsize(OUT):,} bytes")


if __name__ == "__main__":
    main()
