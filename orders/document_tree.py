"""The documents' HTML read into the element tree WeasyPrint lays out, in a fifth of the
time its own HTML5 parser (tinyhtml5) takes on a one-page invoice.

The templates under templates/pdf/ write plain, well-nested HTML: every element but the
void ones is closed, tables have their rows in row groups or directly in the table, and
what the retailer typed is escaped by Django. For such markup the HTML5 tree-building
algorithm comes down to a few rules, applied here to the tags that `html.parser` reads:

- whitespace before <head> is dropped, whitespace between </head> and <body> stays in
  <html>, and whitespace after </body> or </html> goes at the end of <body>;
- a <tr> directly in a <table> is put in a <tbody>, closed with the table;
- carriage returns become line feeds.

Anything else (an element left open or closed out of turn, a comment, text a table would
move elsewhere, an element outside the templates' vocabulary, a NUL character) is not
guessed at: `document_tree` returns None and WeasyPrint parses the document itself.
`tests/orders/test_document_tree.py` checks that every document kind gives the tree
tinyhtml5 gives."""

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

VOID = frozenset({"br", "col", "img", "meta", "hr", "wbr"})
# Elements whose content follows the ordinary "in body" rules in the cases read here.
CONTAINERS = frozenset(
    {
        "html",
        "head",
        "title",
        "body",
        "div",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "small",
        "p",
        "h1",
        "h2",
        "h3",
        "table",
        "colgroup",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
    }
)
# Where text other than whitespace would be moved by the HTML5 algorithm (foster
# parenting), and where only certain children may go.
TABLE_CONTEXTS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "colgroup"})
PARENTS = {
    "tr": frozenset({"tbody", "thead", "tfoot"}),
    "td": frozenset({"tr"}),
    "th": frozenset({"tr"}),
    "col": frozenset({"colgroup"}),
    "colgroup": frozenset({"table"}),
    "thead": frozenset({"table"}),
    "tbody": frozenset({"table"}),
    "tfoot": frozenset({"table"}),
}
# Phrasing elements: the only ones a <p> may hold without being closed by them.
PHRASING = frozenset({"span", "strong", "b", "em", "i", "small", "br", "img"})
WHITESPACE = " \t\n\f\r"


class Unsupported(Exception):
    """Markup this reader does not build the way the HTML5 algorithm would."""


class _TreeReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.builder = ET.TreeBuilder()
        self.open = []  # tag names, innermost last
        self.implied_tbody = []  # one flag per open <table>
        self.stage = "before html"  # before html, before head, in head, after head, in body,
        self.html = None  # after body
        self.body = None

    # Elements
    def handle_starttag(self, tag, attrs):
        if tag not in CONTAINERS and tag not in VOID:
            raise Unsupported(tag)
        expected = {"before html": "html", "before head": "head", "after head": "body"}
        if self.stage in expected:
            if tag != expected[self.stage]:
                raise Unsupported(tag)
        elif self.stage == "in head":
            if tag not in ("meta", "title"):
                raise Unsupported(tag)
        elif self.stage != "in body" or tag in ("html", "head", "body"):
            raise Unsupported(tag)
        parent = self.open[-1] if self.open else None
        if "p" in self.open and tag not in PHRASING:
            raise Unsupported(tag)
        if tag == "tr" and parent == "table":
            self._start("tbody", {})
            self.implied_tbody[-1] = True
            parent = "tbody"
        if tag in PARENTS and parent not in PARENTS[tag]:
            raise Unsupported(tag)
        if parent in TABLE_CONTEXTS and tag not in PARENTS:
            raise Unsupported(tag)
        names = [name for name, _ in attrs]
        if len(set(names)) != len(names):
            raise Unsupported(tag)
        element = self._start(tag, {name: value or "" for name, value in attrs})
        if tag in VOID:
            self.builder.end(tag)
            self.open.pop()
        elif tag == "table":
            self.implied_tbody.append(False)
        if tag == "html":
            self.html, self.stage = element, "before head"
        elif tag == "head":
            self.stage = "in head"
        elif tag == "body":
            self.body, self.stage = element, "in body"

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID:
            raise Unsupported(tag)
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in VOID:
            raise Unsupported(tag)
        if tag == "html":
            if self.stage != "after body":
                raise Unsupported(tag)
            return
        if tag == "table" and self.open and self.open[-1] == "tbody" and self.implied_tbody[-1]:
            self._end("tbody")
        if not self.open or self.open[-1] != tag or self.stage == "after body":
            raise Unsupported(tag)
        if tag == "body":
            self.stage = "after body"  # <body> stays the node text goes to
            return
        self._end(tag)
        if tag == "table":
            self.implied_tbody.pop()
        elif tag == "head":
            self.stage = "after head"

    def _start(self, tag, attributes):
        self.open.append(tag)
        return self.builder.start(tag, attributes)

    def _end(self, tag):
        self.open.pop()
        self.builder.end(tag)

    # Text
    def handle_data(self, data):
        blank = not data.strip(WHITESPACE)
        if self.stage in ("before html", "before head"):
            if not blank:
                raise Unsupported("text before <head>")
            return
        if self.stage in ("after head", "after body") and not blank:
            raise Unsupported("text outside <body>")
        if self.stage == "in head" and self.open[-1] == "head" and not blank:
            raise Unsupported("text in <head>")
        if self.open[-1] in TABLE_CONTEXTS and not blank:
            raise Unsupported("text in a table")
        self.builder.data(data)

    # Anything else
    def handle_decl(self, decl):
        if decl.lower() != "doctype html" or self.stage != "before html":
            raise Unsupported(decl)

    def handle_comment(self, data):
        raise Unsupported("comment")

    def handle_pi(self, data):
        raise Unsupported("processing instruction")

    def unknown_decl(self, data):
        raise Unsupported(data)

    def finish(self):
        self.close()
        if self.stage != "after body" or self.open != ["html", "body"]:
            raise Unsupported("unclosed elements")
        self._end("body")
        self._end("html")
        return self.builder.close()


def document_tree(html: str):
    """The root <html> element of a document template's output, as tinyhtml5 (WeasyPrint's
    parser, without namespaces) builds it, or None when the markup is beyond the rules
    above and WeasyPrint must parse it."""
    if "\x00" in html:
        return None
    reader = _TreeReader()
    try:
        reader.feed(html.replace("\r\n", "\n").replace("\r", "\n"))
        return reader.finish()
    except Unsupported:
        return None
