"""English and Chinese: both catalogues hold the same keys and placeholders, every key the code asks for
exists, no page text bypasses t(), and the app runs in both languages, each session in its own."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path
from string import Formatter

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from vae import catalog, images
from vae.board import BoardError
from vae.board.validate import check_pixels
from vae.images import ImageError
from vae.messages import Message, UserError
from vae.ui import i18n
from vae.ui.i18n import message

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TRAIN_PAGE = "vae/ui/pages/train.py"
UI_SOURCES = [APP, *sorted((ROOT / "vae" / "ui").rglob("*.py"))]
OTHER_LANGUAGES = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]

LANGUAGE_SWITCH = "Language / 语言"  # deliberately bilingual: a reader must find it in either language
CODE_TOKENS = {"z1", "z2", "kl_weight"}  # the model's own names, kept as they are in every language
SAME_IN_EVERY_LANGUAGE = {"train.job_title"}  # "**{name}** · kl_weight {kl_weight:g}": a run name and a code token

# Streamlit calls that show their first argument (or label/caption/text/help) to the user.
SHOWN = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning", "error", "success",
    "toast", "button", "toggle", "checkbox", "radio", "selectbox", "multiselect", "slider", "select_slider",
    "download_button", "text_input", "number_input", "expander", "tabs", "progress", "image",
    "set_page_config",
}  # fmt: skip
NOT_SHOWN_FIRST = {"image", "progress", "set_page_config"}  # the first argument is a picture, a number, a layout
SHOWN_KEYWORDS = {"label", "caption", "text", "help", "placeholder", "page_title"}
PLOT_KEYWORDS = {"name", "title", "title_text", "xaxis_title", "yaxis_title", "subplot_titles", "hovertemplate"}


# ----------------------------------------------------------------- the catalogues


def fields(text: str) -> Counter:
    """The str.format fields of a text: (name, format spec, conversion), each as often as it occurs."""
    return Counter((name, spec, conv) for _, name, spec, conv in Formatter().parse(text) if name is not None)


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_both_catalogues_hold_exactly_the_same_keys(lang):
    english, other = set(i18n.catalogue(i18n.DEFAULT)), set(i18n.catalogue(lang))
    assert not english - other, f"missing from {lang}.toml: {sorted(english - other)}"
    assert not other - english, f"missing from {i18n.DEFAULT}.toml: {sorted(other - english)}"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_placeholders_match_key_by_key(lang):
    english, other = i18n.catalogue(i18n.DEFAULT), i18n.catalogue(lang)
    wrong = [f"{key}: {dict(fields(english[key]))} != {dict(fields(other[key]))}" for key in english.keys() & other.keys()
             if fields(english[key]) != fields(other[key])]  # fmt: skip
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_text_is_translated(lang):
    """A key copied over in English would pass the key check and still show English to a student."""
    english, other = i18n.catalogue(i18n.DEFAULT), i18n.catalogue(lang)
    assert all(isinstance(text, str) and text.strip() for text in other.values())
    copied = sorted(key for key in english.keys() & other.keys() if english[key] == other[key])
    assert set(copied) <= SAME_IN_EVERY_LANGUAGE, f"still in English in {lang}.toml: {copied}"


def test_the_placeholder_check_sees_format_specs_and_conversions():
    assert fields("{z1:.2f}") != fields("{z1}")
    assert fields("{value!r}") != fields("{value}")
    assert fields("%{{customdata}} {digit}") == fields("{digit} x")


# ----------------------------------------------------------------- the code


def is_t(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "t") or (
        isinstance(func, ast.Attribute)
        and func.attr == "t"
        and isinstance(func.value, ast.Name)
        and func.value.id == "i18n"
    )


def key_pattern(node: ast.JoinedStr) -> re.Pattern:
    """t(f"train.preset_{i}") -> train\\.preset_[A-Za-z0-9_]+: the family of keys that call can ask for."""
    parts = [re.escape(p.value) if isinstance(p, ast.Constant) else "[A-Za-z0-9_]+" for p in node.values]
    return re.compile("".join(parts))


def key_problems(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, problem) for each t() call whose key no catalogue holds in every language, or whose values do
    not fill the text's placeholders (a missing one is a KeyError on the page)."""
    english = i18n.catalogue(i18n.DEFAULT)
    keys = set(english).intersection(*(i18n.catalogue(lang) for lang in OTHER_LANGUAGES))
    problems = []
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call) and is_t(node)):
        key = call.args[0] if call.args else None
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            if key.value not in keys:
                problems.append((call.lineno, f"unknown key {key.value!r}"))
                continue
            passed = {kw.arg for kw in call.keywords} - {"lang"}  # lang picks the catalogue, not a field
            needed = {name.split(".")[0].split("[")[0] for name, _, _ in fields(english[key.value])}
            if None not in passed and passed != needed:  # None: t(key, **values), whose names cannot be read
                problems.append((call.lineno, f"{key.value!r} needs {sorted(needed)}, is given {sorted(passed)}"))
        elif isinstance(key, ast.JoinedStr):
            pattern = key_pattern(key)
            if not any(pattern.fullmatch(k) for k in keys):
                problems.append((call.lineno, f"no key matches {pattern.pattern!r}"))
        else:  # a key held in a variable cannot be checked: spell it out (an f-string) where it is used
            problems.append((call.lineno, "t() without a literal key"))
    return problems


def test_every_key_the_code_asks_for_exists_with_the_values_it_needs():
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {problem}"
        for path in UI_SOURCES
        for line, problem in key_problems(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not problems, "\n".join(problems)


def test_the_key_scan_catches_unknown_keys_families_and_values():
    source = """t("nope.key")
i18n.t("map.caption", z1=0.0)
t("map.caption", z1=0.0, z2=1.0)
t("frame.bad_lang", lang="en", value="xx")
t(f"train.preset_{i}")
t(f"train.nothing_{i}")
t(key)
"""
    assert sorted(line for line, _ in key_problems(ast.parse(source))) == [1, 2, 6, 7]


def has_words(text: str) -> bool:
    """Letters outside markup tags (plotly's <extra></extra>, <b>) are words a reader sees."""
    return bool(re.search(r"[^\W\d_]", re.sub(r"<[^>]*>", "", text)))


def texts_of(node: ast.expr):
    """The literal pieces of an expression that reach the page; a call (t(...), str(err)) is not followed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield "".join(p.value for p in node.values if isinstance(p, ast.Constant))
    elif isinstance(node, ast.BinOp):
        yield from texts_of(node.left)
        yield from texts_of(node.right)
    elif isinstance(node, ast.IfExp):
        yield from texts_of(node.body)
        yield from texts_of(node.orelse)
    elif isinstance(node, ast.List | ast.Tuple):
        for element in node.elts:
            yield from texts_of(element)


def shown_arguments(call: ast.Call):
    """The arguments of a Streamlit or plotly call that end up as text on the page."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return
    if func.attr in SHOWN and isinstance(func.value, ast.Name | ast.Attribute):  # st.x, st.sidebar.x, column.x
        positional = call.args[1:2] if func.attr in NOT_SHOWN_FIRST else call.args[:1]
        yield from positional
        yield from (kw.value for kw in call.keywords if kw.arg in SHOWN_KEYWORDS)
    hidden = any(kw.arg == "showlegend" and isinstance(kw.value, ast.Constant) and kw.value.value is False
                 for kw in call.keywords)  # fmt: skip
    if not hidden:  # a trace kept out of the legend never shows its name
        yield from (kw.value for kw in call.keywords if kw.arg in PLOT_KEYWORDS)


def shown_nodes(tree: ast.AST):
    """(line, expression) for every expression of a module that becomes text on the page."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield from ((node.lineno, arg) for arg in shown_arguments(node))
        elif isinstance(node, ast.Dict):  # plotly layout dicts: {"title": {"text": ...}}, axis | {"title": ...}
            pairs = zip(node.keys, node.values, strict=True)
            yield from ((v.lineno, v) for k, v in pairs if isinstance(k, ast.Constant) and k.value in {"title", "text"})


def test_no_page_text_bypasses_the_catalogue():
    allowed = {LANGUAGE_SWITCH, *CODE_TOKENS}
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in UI_SOURCES
        for line, node in shown_nodes(ast.parse(path.read_text(encoding="utf-8")))
        for text in texts_of(node)
        if has_words(text) and text not in allowed
    ]
    assert not found, "text shown without t():\n" + "\n".join(found)


def test_the_bypass_scan_catches_literals_and_spares_keys():
    source = """st.header("Model")
st.sidebar.caption(f"{n} runs")
col.info(t("a.b"))
st.image(x, caption="")
fig.update_layout(legend={"title": {"text": "digit"}}, yaxis_title=t("c.d"))
go.Scatter(name="hidden", showlegend=False, hovertemplate=t("e.f") + "<extra></extra>")
"""
    flagged = sorted(text for _, node in shown_nodes(ast.parse(source)) for text in texts_of(node) if has_words(text))
    assert flagged == [" runs", "Model", "digit"]


# ----------------------------------------------------------------- messages from the vae package

CORE_SOURCES = [ROOT / "train.py", *sorted((ROOT / "vae").rglob("*.py"))]


def message_classes(trees: list[ast.AST]) -> set[str]:
    """Message, UserError and every class deriving from them (by name) in the sources: the calls that make a
    message for the user."""
    bases = {
        node.name: {base.id if isinstance(base, ast.Name) else base.attr for base in node.bases
                    if isinstance(base, ast.Name | ast.Attribute)}
        for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
    }  # fmt: skip
    found = {"Message", "UserError"}
    while more := {name for name, parents in bases.items() if parents & found} - found:
        found |= more
    return found


def message_problems(tree: ast.AST, classes: set[str]) -> list[tuple[int, str]]:
    """(line, problem) for each message made without a key, or whose key, English text or values do not match
    the [errors] section of every catalogue. A message passed on (RunError(info.problem)) has its key already."""
    english = i18n.catalogue(i18n.DEFAULT)
    keys = set(english).intersection(*(i18n.catalogue(lang) for lang in OTHER_LANGUAGES))
    problems = []
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call) and node.args):
        func = call.func
        if (func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)) not in classes:
            continue
        key, template = call.args[0], call.args[1] if len(call.args) > 1 else None
        if isinstance(key, ast.JoinedStr | ast.BinOp) or (isinstance(key, ast.Constant) and template is None):
            problems.append((call.lineno, "English text without a catalogue key"))
        elif isinstance(key, ast.Constant):
            if not (isinstance(template, ast.Constant) and isinstance(template.value, str)):
                problems.append((call.lineno, f"{key.value!r}: the English text is not written out"))
            elif f"errors.{key.value}" not in keys:
                problems.append((call.lineno, f"no errors.{key.value} in every catalogue"))
            elif english[f"errors.{key.value}"] != template.value:
                problems.append((call.lineno, f"errors.{key.value} in en.toml is not the text raised here"))
            elif {kw.arg for kw in call.keywords} != {name for name, _, _ in fields(template.value)}:
                problems.append((call.lineno, f"{key.value!r}: the values do not fill its placeholders"))
    return problems


def test_every_message_raised_in_vae_is_in_both_catalogues_with_its_english_text():
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in CORE_SOURCES}
    classes = message_classes(list(trees.values()))
    assert {"ImageError", "DrawingError", "JobError", "RunError", "BoardError", "DataError"} <= classes
    problems = [
        f"{path.relative_to(ROOT)}:{line}: {problem}"
        for path, tree in trees.items()
        for line, problem in message_problems(tree, classes)
    ]
    assert not problems, "\n".join(problems)


def test_the_message_scan_catches_missing_keys_texts_and_values():
    source = """class FooError(UserError): ...
class BarError(FooError): ...
raise BarError(f"{x} is broken")
raise FooError("plain text only")
raise BarError("images.empty", "The file is empty.")
raise BarError("images.empty", "The file is empty!")
raise BarError("nope.nothing", "Nothing.")
raise BarError("images.too_large", "The file is {mb:.1f} MB; the limit is {limit:.0f} MB.", mb=1)
notes.append(Message("images.transparent", text))
raise BarError(info.problem)
raise ValueError(f"{x} is not ours")
"""
    tree = ast.parse(source)
    assert {"FooError", "BarError"} <= message_classes([tree])
    assert [line for line, _ in message_problems(tree, message_classes([tree]))] == [3, 4, 6, 7, 8, 9]


def test_a_message_is_said_in_the_language_asked_for():
    with pytest.raises(ImageError) as caught:
        images.digit_from_upload(b"")
    assert message(caught.value, "zh") == i18n.catalogue("zh")["errors.images.empty"]
    assert message(caught.value, "en") == str(caught.value)  # the English catalogue holds the raised text
    with pytest.raises(BoardError) as caught:
        check_pixels(["a"] * 784)
    said = message(caught.value, "zh")  # "{what} must be numbers": the image is said in Chinese too
    assert said.startswith(i18n.catalogue("zh")["errors.board.the_image"]) and chinese(said), said


@pytest.mark.parametrize("said", [
    UserError("plain text without a key"), ValueError("not a vae message"), "a plain string",
    Message("nowhere.in_the_catalogue", "said in English"),
    Message.restore("status.failed", "OSError: disk full", {"error": "disk full"}),  # a value missing
])  # fmt: skip
def test_a_message_the_catalogue_cannot_say_is_shown_in_english(said):
    assert message(said, "zh") == str(said)


# ----------------------------------------------------------------- choosing the language


def test_a_bad_lang_in_the_link_falls_back_with_a_note():
    lang, note = i18n.pick_language("xx", None)
    assert lang == i18n.DEFAULT and "'xx'" in note
    lang, note = i18n.pick_language("xx", "zh-CN")
    assert lang == "zh" and "'xx'" in note and note != i18n.pick_language("xx", None)[1]  # said in Chinese
    lang, note = i18n.pick_language("<script>" * 50, None)
    assert lang == i18n.DEFAULT and len(note) < 200  # what a link sends is cut, not echoed whole


@pytest.mark.parametrize(("query", "locale", "expected"), [
    ("zh", None, "zh"), ("en", "zh-CN", "en"), (None, "zh-CN", "zh"), (None, "zh", "zh"), (None, "fr-FR", "en"),
    (None, None, "en"), ("", "zh-TW", "zh"),
])  # fmt: skip
def test_the_link_wins_then_the_browser_then_english(query, locale, expected):
    assert i18n.pick_language(query, locale) == (expected, None)


# ----------------------------------------------------------------- the app in both languages


@pytest.fixture
def shipped_runs(tmp_path, monkeypatch):
    """The runs that ship in pretrained/, and an empty runs/ (no local run or job changes the page)."""
    monkeypatch.setenv(catalog.ROOT_ENV["pretrained"], str(ROOT / "pretrained"))
    monkeypatch.setenv(catalog.ROOT_ENV["runs"], str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()
    if not any(info.ok for info in catalog.list_runs()):
        pytest.fail("pretrained/ ships with the checkout and must hold a usable run")
    st.cache_resource.clear()  # shared across AppTest instances in one process
    st.cache_data.clear()


def start(lang: str | None = None, locale: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if lang is not None:
        at.query_params["lang"] = lang
    at.context["locale"] = locale
    return at.run()


WIDGETS = ("button", "toggle", "checkbox", "radio", "selectbox", "multiselect", "slider", "select_slider")


def page_texts(at: AppTest) -> set[str]:
    """Headers, captions and widget labels of the page and its sidebar, minus the texts that are the same
    in every language."""
    assert not at.exception, [e.value for e in at.exception]
    texts = {e.value for kind in ("title", "header", "subheader", "caption") for e in getattr(at, kind)}
    texts |= {w.label for kind in WIDGETS for w in getattr(at, kind)}
    texts |= {e.proto.label for e in at.get("download_button")}
    return texts - {LANGUAGE_SWITCH, *CODE_TOKENS}


def chart_texts(at: AppTest) -> set[str]:
    """Trace names, legend, axis and subplot titles of every plotly chart on the page."""

    def walk(node, key=None):
        if isinstance(node, dict):
            return set().union(*(walk(v, k) for k, v in node.items()))
        if isinstance(node, list):
            return set().union(*(walk(v, key) for v in node))
        return {node} if isinstance(node, str) and key in {"name", "text", "title"} else set()

    return set().union(*(walk(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")))


def headers(at: AppTest) -> list[str]:
    return [e.value for kind in ("title", "header", "subheader") for e in getattr(at, kind)]


def chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


@pytest.mark.parametrize("page", [None, TRAIN_PAGE])
def test_the_chinese_page_leaves_no_english_text(shipped_runs, page):
    english, zh = start(), start("zh")
    if page:
        english.switch_page(page).run()
        zh.switch_page(page).run()
    english_texts, zh_texts = page_texts(english), page_texts(zh)
    assert english_texts and not english_texts & zh_texts, sorted(english_texts & zh_texts)
    assert len(headers(zh)) == len(headers(english)) and all(map(chinese, headers(zh))), headers(zh)
    english_figures = {v for k, v in i18n.catalogue("en").items() if k.startswith("figures.")} - CODE_TOKENS
    assert not chart_texts(zh) & english_figures, sorted(chart_texts(zh) & english_figures)
    assert chart_texts(english) & english_figures  # the chart check reads the labels it means to
    assert zh.query_params["lang"] == "zh"


def test_the_browser_language_is_the_default_and_the_link_wins(shipped_runs):
    assert chinese(headers(start(locale="zh-CN"))[0])
    assert not chinese(headers(start("en", locale="zh-CN"))[0])


def test_the_switch_changes_the_language_of_that_session_only(shipped_runs):
    mine, other = start(), start()
    english = page_texts(mine)
    mine.sidebar.selectbox(key=i18n.STATE_KEY).set_value("zh").run()
    assert not page_texts(mine) & english and all(map(chinese, headers(mine)))
    assert mine.query_params["lang"] == "zh"  # a link copied now opens in Chinese
    other.run()
    assert page_texts(other) == english  # no process-wide language
    mine.sidebar.selectbox(key=i18n.STATE_KEY).set_value("en").run()
    assert page_texts(mine) == english


def test_a_bad_lang_in_the_link_shows_the_page_with_a_note(shipped_runs):
    at = start("xx")
    assert not at.exception and not at.error
    assert [e.value for e in at.toast] == [i18n.pick_language("xx", None)[1]]
    assert at.query_params["lang"] == i18n.DEFAULT and not chinese(headers(at)[0])


def test_the_pad_says_what_it_finds_wrong_with_a_picture_in_chinese(shipped_runs):
    """A picture is checked in the page (the server never sees the file): the page's messages arrive in the
    session's language, as the catalogue's templates the page fills in."""
    from vae.drawpad import PICTURE_MESSAGES

    at = start("zh")
    pad = json.loads(next(e.proto.json for e in at.get("bidi_component") if e.key == "draw-0"))
    zh = i18n.catalogue("zh")
    assert {key: pad["texts"][key] for key in PICTURE_MESSAGES} == {
        key: zh[f"errors.{key}"] for key in PICTURE_MESSAGES
    }
    assert pad["texts"]["open"] == zh["drawpad.open"] and all(chinese(pad["texts"][key]) for key in PICTURE_MESSAGES)
