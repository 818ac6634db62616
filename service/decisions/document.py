"""Load a DMN XML document safely and read its elements namespace-neutrally.

DMN files are analysts' content and therefore untrusted: DTDs and entities are refused outright
(no billion-laughs, no external entity reads), the network is never touched and the size is
capped before parsing. DMN 1.1 to 1.5 use different model namespaces for the same element
names, so elements are looked up by local name once the root's namespace is known to be DMN.
"""
from __future__ import annotations

import re

from lxml import etree

from .errors import DmnError

DEFAULT_MAX_BYTES = 2 * 1024 * 1024

#: The model namespaces of DMN 1.1 .. 1.5 (TCK files mix several of them), with the variants
#: modelers write: DMN 1.1 without ``/dmn.xsd`` or without ``/spec``, ``http`` for ``https``.
DMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",         # 1.1
    "http://www.omg.org/spec/DMN/20151101",
    "http://www.omg.org/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",           # 1.2
    "https://www.omg.org/spec/DMN/20191111/MODEL/",          # 1.3
    "http://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",          # 1.4
    "http://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",          # 1.5
    "http://www.omg.org/spec/DMN/20230324/MODEL/",
})

_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def load_xml(xml: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``xml`` into its root element, refusing DTDs, entities and oversized input.

    The DOCTYPE check runs on the raw bytes (and, for UTF-16 input, on the decoded text) before
    lxml sees them, and again on the parsed document, so no entity is ever declared.
    """
    data = xml.encode("utf-8") if isinstance(xml, str) else bytes(xml)
    if len(data) > max_bytes:
        raise DmnError(f"DMN document is {len(data)} bytes, over the {max_bytes}-byte limit")
    probe = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        probe = data.decode("utf-16", errors="replace").encode("utf-8")
    if _DOCTYPE.search(probe):
        raise DmnError("DMN documents may not contain a DOCTYPE or entity declarations")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_comments=True,
                             remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DmnError(f"DMN document is not well-formed XML: {exc.msg}",
                       line=getattr(exc, "lineno", None)) from exc
    if root.getroottree().docinfo.doctype:
        raise DmnError("DMN documents may not contain a DOCTYPE")
    if local(root) != "definitions" or etree.QName(root).namespace not in DMN_NAMESPACES:
        raise DmnError(f"root element must be DMN <definitions>, got <{root.tag}>",
                       line=root.sourceline)
    return root


def local(el: etree._Element) -> str:
    """Return the element's local name ('' for comments and processing instructions)."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(el: etree._Element, name: str | None = None) -> list[etree._Element]:
    """Return the DMN child elements of ``el``, optionally only those with local name ``name``."""
    ns = etree.QName(el).namespace
    out = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if etree.QName(child).namespace != ns:
            continue  # extension elements, DMNDI
        if name is None or local(child) == name:
            out.append(child)
    return out


def child(el: etree._Element, name: str) -> etree._Element | None:
    """Return the first DMN child named ``name``, or None."""
    for c in children(el, name):
        return c
    return None


def text_of(el: etree._Element | None, name: str = "text", *, where: str | None = None,
            element_id: str | None = None) -> str | None:
    """Return the text of ``el``'s ``<text>`` child (the FEEL source of most DMN elements).

    Markup inside it (``<text><text>x</text></text>``) is refused with a ``DmnError`` naming
    ``where`` (else the element) and ``element_id`` (else the element's id): read as its text
    alone it would be empty, and an empty input entry matches everything. So is text in another
    expression language than FEEL (Camunda 7's ``juel``, Groovy, JavaScript...), given on the
    element or as the model's default: we would evaluate it as FEEL or as null.
    """
    if el is None:
        return None
    t = child(el, name)
    if t is None:
        return None
    language = expression_language(el)
    if language is not None and "FEEL" not in language.upper():
        raise DmnError(f"{where or '<' + local(el) + '>'}: expression language {language!r} is "
                       f"not supported, only FEEL", element_id=el.get("id") or element_id
                       or describe(el), line=el.sourceline)
    for sub in t:
        if isinstance(sub.tag, str):
            raise DmnError(f"{where or '<' + local(el) + '>'}: its <{name}> holds an element "
                           f"<{local(sub)}>, not FEEL text",
                           element_id=el.get("id") or element_id or describe(el),
                           line=sub.sourceline)
    return t.text or ""


def expression_language(el: etree._Element) -> str | None:
    """Return the element's ``expressionLanguage``, else the model's default, else None."""
    return el.get("expressionLanguage") or el.getroottree().getroot().get("expressionLanguage")


def describe(el: etree._Element) -> str:
    """Return the id, else the name, else the tag of an element for error messages."""
    return el.get("id") or el.get("name") or local(el)


def href_id(href: str) -> tuple[str, str]:
    """Split a DMN ``href`` into (namespace, id); the namespace is '' for local references."""
    ns, _, ident = href.rpartition("#")
    return ns, ident
