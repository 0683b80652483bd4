"""Reading a PDF back, as a person or a screen reader would: its pages, its text, and the order in
which its glyphs stand on the page.

Two well-kept extractors, each for what it does well: pypdf gives each line's characters in logical
order (it puts right-to-left runs back into reading order), pdfminer.six gives every glyph with its
position and font, in the order drawn, which is the visual order. Text is compared after NFKC, which
folds Arabic presentation forms (ﻟ, ﻠ, ﻞ) into the letters they present (ل).
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass

from pdfminer.high_level import extract_pages
from pdfminer.layout import LTChar, LTTextContainer, LTTextLine
from pypdf import PdfReader


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def text_lines(pdf: bytes) -> list[str]:
    """Every line of every page in logical order (pypdf), NFKC-normalised and stripped."""
    reader = PdfReader(io.BytesIO(pdf))
    return [nfkc(line).strip() for page in reader.pages for line in page.extract_text().splitlines()
            if line.strip()]


@dataclass(frozen=True)
class Glyph:
    x: float
    text: str  # the characters the glyph stands for (two or more for a ligature)
    font: str  # the embedded font's name, e.g. "ABCDEF+Noto-Sans-Arabic"


def glyph_lines(pdf: bytes) -> list[list[Glyph]]:
    """Each line's glyphs as drawn, left to right on the page (pdfminer)."""
    lines = []
    for page in extract_pages(io.BytesIO(pdf)):
        for element in page:
            if not isinstance(element, LTTextContainer):
                continue
            for line in element:
                if isinstance(line, LTTextLine):
                    glyphs = [Glyph(char.x0, char.get_text(), char.fontname) for char in line
                              if isinstance(char, LTChar)]
                    if glyphs:
                        lines.append(sorted(glyphs, key=lambda glyph: glyph.x))
    return lines


def read_right_to_left(glyphs: list[Glyph]) -> str:
    """The glyphs read from the right edge to the left, as an Arabic reader reads them, each
    glyph's characters in their own (logical) order: the name as typed if the layout applied the
    bidirectional algorithm, a reversed name if it did not."""
    return nfkc("".join(glyph.text for glyph in sorted(glyphs, key=lambda glyph: -glyph.x))).strip()


def read_left_to_right(glyphs: list[Glyph]) -> str:
    return nfkc("".join(glyph.text for glyph in glyphs)).strip()
