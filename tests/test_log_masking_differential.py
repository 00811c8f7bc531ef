"""The app log filter (MaskPhones) against itself as it was before its masking was made cheaper:
byte-identical lines for every input the masking tests use and for lines built the way the app
writes them, with numbers in every spelling the tests use. A cut that skips a scan must not
change what a line shows."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import types
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsvc.logging_setup import MaskPhones

ROOT = Path(__file__).resolve().parent.parent
# The masking as it was before the cuts (main's 560d7bc), read from git: a copy in the tree
# would be a second copy of every rule.
REFERENCE_COMMIT = "560d7bc"
_MODULES = ("keys", "phone_numbers", "text", "words", "urls")


@cache
def _reference() -> type:
    """MaskPhones at REFERENCE_COMMIT, its log_masking modules loaded under a name of their own
    (their own budget, their own patterns)."""
    package = types.ModuleType("_reference_log_masking")
    package.__path__ = []
    sys.modules[package.__name__] = package

    def load(path: str, name: str) -> types.ModuleType:
        try:
            source = subprocess.run(["git", "show", f"{REFERENCE_COMMIT}:{path}"], cwd=ROOT,
                                    check=True, capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError):  # no git, a tarball, a shallow clone
            pytest.skip(f"needs git and commit {REFERENCE_COMMIT} (the masking before the cuts)")
        source = source.replace("commsvc.log_masking.", package.__name__ + ".")
        module = types.ModuleType(name)
        module.__file__ = f"<{REFERENCE_COMMIT}:{path}>"
        sys.modules[name] = module
        exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102
        return module

    for name in _MODULES:
        setattr(package, name, load(f"commsvc/log_masking/{name}.py",
                                    f"{package.__name__}.{name}"))
    return load("commsvc/logging_setup.py", "_reference_logging_setup").MaskPhones


def _test_inputs() -> list[str]:
    """Every string the masking tests write (their inputs and expected lines)."""
    files = ["tests/test_log_masking.py", "tests/test_access_log.py",
             "tests/records/test_audit_masking.py", "tests/webhooks/test_logs_and_round_trips.py",
             "tests/test_phones.py"]
    found = set()
    for name in files:
        for node in ast.walk(ast.parse((ROOT / name).read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                found.add(node.value)
    return sorted(found)


def _same(message: str, keep: frozenset[str] = frozenset()) -> None:
    assert MaskPhones().masked(message, keep) == _reference()().masked(message, keep), message


def test_the_reference_is_the_old_code():
    assert _reference() is not MaskPhones
    assert _reference()().masked("to +14155550101 as SM1") == "to +1******0101 as SM1"


def test_every_string_of_the_masking_tests_is_masked_as_before():
    inputs = _test_inputs()
    assert len(inputs) > 500
    for text in inputs:
        _same(text)
        _same(f"twilio sms outcome=forwarded from={text} to=+1******0000 sid=SM{'a1' * 16}"
              f" message_id=msg_{'8d7' * 8} session=ses_{text} media=0 duplicate=False")


# The app's own lines (webhooks/twilio.py, sending, acceptance) and values they carry.
_FORMATS = [
    "twilio sms outcome=%s from=%s to=%s sid=%s message_id=%s session=%s media=%s duplicate=%s",
    "twilio voice outcome=%s from=%s to=%s sid=%s call_id=%s session=%s duplicate=%s",
    "accepted %s %s to %s (%s)",
    "%s %s to %s as %s",
    "twilio webhook refused: missing or invalid signature path=/webhooks/twilio/sms/%s",
    "lookup %s failed: %s",
    "%s%s",
]
_HEX = "0123456789abcdef"
_UNUSUAL = ["\u00a0", "\u2009", "\u3000", "\u2013", "\u2212", "\u00ad", "\u2060", "\u00b7",
            "\u30fc", "\t", "\n"]
_SEPARATORS = [" ", "-", ".", "/", "+", "_", "*", "~", ",", "(", ")", "[", "]", "%20", "%2D",
               "%2B", "%5F", "%28", "%29", "", "", "", *_UNUSUAL]
# Digits as people (and Unicode) write them: fullwidth, Arabic-Indic, a keycap's.
_DIGITS = st.sampled_from([str.maketrans("0123456789", "0123456789"),
                           str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15"
                                         "\uff16\uff17\uff18\uff19"),
                           str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665"
                                         "\u0666\u0667\u0668\u0669"),
                           str.maketrans({str(d): f"{d}\ufe0f\u20e3" for d in range(10)})])


@st.composite
def _number(draw) -> str:
    digits = draw(st.sampled_from([
        "4155550101", "14155550101", "447911123456", "2125550199", "0612345678", "02079460958",
        "00442079460958", "011442079460958", "6834002", "5551234", "330612345678",
        "1700000000", "2026061512", "20261124", "123456789012345678"]))
    digits = draw(st.text("0123456789", min_size=0, max_size=3)) + digits \
        if draw(st.booleans()) and draw(st.booleans()) else digits
    cuts = sorted(draw(st.lists(st.integers(1, len(digits) - 1), max_size=4, unique=True)))
    parts = [digits[i:j] for i, j in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    written = parts[0] + "".join(draw(st.sampled_from(_SEPARATORS)) + part for part in parts[1:])
    written = written.translate(draw(_DIGITS))
    if draw(st.integers(0, 5)) == 0:  # a keypad's letters for the last four
        written = written[:-4] + draw(st.sampled_from(["CALL", "FLOW", "call", "NOW1"]))
    prefix = draw(st.sampled_from(["", "", "+", "%2B", "%20", "(", "tel:", "ph", "x", "acme_",
                                   "bk-", "2026-11-24-", "%", "~", "job_", "-"]))
    suffix = draw(st.sampled_from(["", "", "x", "x12", "ext12", "_retry", "-ab", "ab", ".0",
                                   ".5", ")", ":30", "E1", "-", "_"]))
    return prefix + written + suffix


_IDS = st.one_of(
    st.builds(lambda h: "SM" + h, st.text(_HEX, min_size=32, max_size=32)),
    st.builds(lambda h: "msg_" + h, st.text(_HEX, min_size=24, max_size=24)),
    st.builds(lambda h: "ses_" + h, st.text(_HEX, min_size=24, max_size=24)),
    st.builds(lambda h: "key_" + h, st.text(_HEX, min_size=16, max_size=16)),
    st.uuids().map(str),
    st.sampled_from(["+1******0101", "+44******3456", "forwarded", "False", "True", "0", "3",
                     "2026-11-24T17:42:13.108945Z", "+266696687", "+8656696", "+7378742833",
                     "+2562533", "Anonymous", "sms", "reminder", "None", "12.345678 ms"]),
)
_VALUE = st.one_of(_number(), _IDS, st.text(
    "0123456789" * 3 + " +-./()%_*~,#=?&;:xXabcdefCALTZ\u00a0\u2013\uff10\u0663", max_size=30))


@st.composite
def _line(draw) -> tuple[str, tuple[str, ...]]:
    line = draw(st.sampled_from(_FORMATS))
    args = tuple(draw(_VALUE) for _ in range(line.count("%s")))
    return line, args


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_line(), st.booleans())
def test_a_line_built_as_the_app_writes_them_is_masked_as_before(line_args, keep_hidden):
    line, args = line_args
    message = line % args
    keep = frozenset(arg for arg in args if arg[:1] == "+")  # kept as a hidden caller's
    _same(message, keep if keep_hidden else frozenset())


@pytest.mark.parametrize("unit", ["a1234567b/", "%4155550101", "(1) ", "+1234567; ",
                                  "415-555-0101_", "\u00a0415\u2013555 "])
def test_a_long_hostile_line_is_masked_as_before(unit):
    _same("x " + unit * 300)


def test_each_hint_reads_an_ascii_text_as_unicode_reads_it():
    """A Hint is searched for in an ASCII text as compiled with re.ASCII: the same answer as
    the pattern compiled for Unicode, over texts where the patterns match and soup around them."""
    from commsvc.log_masking import phone_numbers, text, words
    from tests.test_log_masking import _hint_corpus
    hints = [found for module in (phone_numbers, text, words) for found in vars(module).values()
             if isinstance(found, phone_numbers.Hint)]
    assert len(hints) >= 6
    corpus = [found for found in _hint_corpus(5000) if found.isascii()]
    corpus += [found.replace("\u00a0", "\x1c").replace("\u2013", "\x1f")
               for found in _hint_corpus(2000)]
    corpus = [found for found in corpus if found.isascii()]
    for hint in hints:
        unicode = re.compile(hint.pattern)
        matched = 0
        for found in corpus:
            assert bool(hint.search(found)) == bool(unicode.search(found)), (hint.pattern, found)
            matched += bool(unicode.search(found))
        assert matched > 100, hint.pattern


def test_the_hint_corpus_is_masked_as_before():
    from tests.test_log_masking import _hint_corpus
    for found in _hint_corpus():
        _same(found)
        _same(f"lookup {found} failed sid=SM{'a1' * 16}")


def test_where_an_ascii_text_may_hold_a_number_its_plain_form_may_too():
    """phones_masked skips mask_phones where the plain form holds no number: it may only where
    the text itself holds none."""
    from commsvc.log_masking.phone_numbers import may_hold_phone
    from commsvc.log_masking.text import _plain
    from tests.test_log_masking import _hint_corpus
    corpus = [found for found in _hint_corpus() + _test_inputs() if found.isascii()]
    held = [found for found in corpus if may_hold_phone(found)]
    assert len(held) > 1000
    assert [found for found in held if not may_hold_phone(_plain(found))] == []
