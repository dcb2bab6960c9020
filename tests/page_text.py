"""Everything an AppTest page sends a browser, as one string: to check that a secret never reaches a page.

at = AppTest.from_file("app.py").run()
assert_not_rendered(at, presenter.server_key())
"""

from __future__ import annotations


def rendered_text(at) -> str:
    """Every element's protobuf (labels, bodies, widget defaults), every widget's current value and the query string."""
    parts: list[str] = []

    def walk(node) -> None:
        if (proto := getattr(node, "proto", None)) is not None:
            parts.append(str(proto))
        if not hasattr(node, "children"):
            try:
                parts.append(repr(node.value))
            except Exception:  # elements without a value (or whose value needs a live session): the proto has all
                pass
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    parts.append(repr(dict(at.query_params)))
    return "\n".join(parts)


def assert_not_rendered(at, secret: str) -> None:
    assert secret, "an empty secret is in every page"
    assert secret not in rendered_text(at), "the secret reached the page (an element, a widget value or the URL)"
