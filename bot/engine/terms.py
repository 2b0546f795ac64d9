"""Words as code and specs use them: identifier splitting, stemming, abbreviations, stopwords.

A spec says "dead letter queue for the outbox"; the code says ``OutboxDLQ`` and
``move_to_dead_letter``. Both sides are reduced to the same comparable terms here: identifiers
are split (camelCase, snake_case, kebab-case, digits), words are lower-cased and stemmed
(Snowball, so "retries" and "retry" meet), and common programming abbreviations are expanded
both ways (``dlq`` ↔ dead letter queue). Stopwords are English function words plus the verbs
specs use to ask for things ("add", "support", "provide"), which say nothing about the code.
"""
from __future__ import annotations

import re
import sys
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")

# camelCase humps, acronyms followed by a word (HTTPServer → HTTP Server), digits apart.
_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_WORDISH = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’][a-z]+)?")

STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before being below
between both but by can cannot could did do does doing done down during each either else etc even ever every
few for from further get gets got had has have having he her here hers herself him himself his how however i
ie if in into is isn't it its itself just least less let lets like likely many may me might more most much must
my myself need needs neither no nor not now of off often on once one only onto or other others otherwise our
ours ourselves out over own per perhaps please quite rather really same shall she should since so some such
than that the their theirs them themselves then there these they this those though through thus to too toward
towards under until up upon us very via was we well were what whatever when whenever where whether which while
who whom whose why will with within without would yet you your yours yourself
eg e.g i.e vs versus
add adds added adding create creates created creating make makes made making use uses used using allow allows
allowed enable enables enabled implement implements implemented implementing implementation ensure ensures
provide provides provided providing support supports supported supporting include includes included including
introduce introduces introduced handle handles handled offer offers
new existing current currently able based way ways thing things something anything everything nothing
following follow follows above below example examples e g see also etc simply easily always never
first second third two three four five six seven eight nine ten several various certain specific
good better best great nice simple easy fully full proper properly correct correctly appropriate available
within across along among around beyond inside outside
should must shall will would could can may might
endpoint endpoints function functions method methods class classes module modules field fields variable variables
parameter parameters property properties attribute attributes object objects item items feature features system
component components implementation code logic layer support value values thing
given when then scenario scenarios requirement requirements rule rules background outline
app application work works working custom show shows shown set sets tbd tba etc via
""".split())

# Abbreviations programmers write, and the words they stand for. Matching expands both ways.
ABBREVIATIONS = {
    "dlq": "dead letter queue", "ttl": "time to live", "qps": "queries per second", "rps": "requests per second",
    "db": "database", "cfg": "configuration", "conf": "configuration", "config": "configuration",
    "auth": "authentication", "authn": "authentication", "authz": "authorization", "msg": "message",
    "ctx": "context", "repo": "repository", "env": "environment", "impl": "implementation",
    "init": "initialize", "max": "maximum", "min": "minimum", "num": "number", "idx": "index",
    "req": "request", "resp": "response", "err": "error", "args": "arguments", "arg": "argument",
    "params": "parameters", "param": "parameter", "pkg": "package", "svc": "service", "mgr": "manager",
    "util": "utility", "utils": "utilities", "tmp": "temporary", "temp": "temporary", "ws": "websocket",
    "rbac": "role based access control", "acl": "access control list", "sso": "single sign on",
    "mfa": "multi factor authentication", "otp": "one time password", "jwt": "json web token",
    "ui": "user interface", "cli": "command line interface", "k8s": "kubernetes", "pg": "postgres",
    "regex": "regular expression", "fs": "file system", "io": "input output", "os": "operating system",
    "dir": "directory", "dirs": "directories", "doc": "document", "docs": "documents", "info": "information",
    "stats": "statistics", "calc": "calculate", "cnt": "count", "del": "delete", "attr": "attribute",
    "attrs": "attributes", "prop": "property", "props": "properties", "ref": "reference", "refs": "references",
    "src": "source", "dst": "destination", "dest": "destination", "addr": "address", "seq": "sequence",
    "sig": "signature", "ver": "version", "perm": "permission", "perms": "permissions", "sched": "schedule",
    "notif": "notification", "notifs": "notifications", "admin": "administrator", "eval": "evaluate",
    "exec": "execute", "async": "asynchronous", "sync": "synchronize", "lb": "load balancer",
    "cb": "circuit breaker", "hc": "health check", "e2e": "end to end", "id": "identifier",
}


def split_identifier(s: str) -> list[str]:
    """Lower-case word parts of an identifier: ``HTTPServerError`` → http, server, error; ``max_retries`` →
    max, retries; ``dead-letter`` → dead, letter; ``v2Api`` → v, 2, api."""
    return list(split_parts(s))


@lru_cache(maxsize=1 << 16)
def split_parts(s: str) -> tuple[str, ...]:
    """split_identifier as an interned tuple (code repeats its names: cached)."""
    return tuple(sys.intern(p.lower()) for p in _HUMP.findall(s))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    w = word.lower()
    return _STEMMER.stemWord(w) if len(w) > 3 else w


def _expansions() -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, ...], str]]:
    abbr_to_words: dict[str, tuple[str, ...]] = {}
    phrase_to_abbr: dict[tuple[str, ...], str] = {}
    for abbr, phrase in ABBREVIATIONS.items():
        words = tuple(stem(w) for w in phrase.split())
        abbr_to_words[abbr] = words
        if len(words) > 1:
            phrase_to_abbr.setdefault(words, abbr)
    return abbr_to_words, phrase_to_abbr


_ABBR_WORDS, _PHRASE_ABBR = _expansions()
_MAX_PHRASE = max(len(p) for p in _PHRASE_ABBR)


def normalise(words: list[str]) -> list[str]:
    """Lower-cased, stemmed words with abbreviations expanded both ways (both forms kept)."""
    stems = [stem(w) for w in words if w]
    out: list[str] = []
    for i, s in enumerate(stems):
        out.append(s)
        low = words[i].lower()
        if low in _ABBR_WORDS:
            out.extend(_ABBR_WORDS[low])
        for n in range(2, _MAX_PHRASE + 1):
            abbr = _PHRASE_ABBR.get(tuple(stems[i:i + n]))
            if abbr:
                out.append(abbr)
    return out


def words_of(text: str) -> list[str]:
    """Every word of a text, identifiers split: 'retry_count < max' → retry, count, max. A word in
    mixed case stays whole ('MySQL' → mysql, 'OpenTelemetry' → opentelemetry): in prose it is a
    name, and code that uses the name matches it through ``identifier_terms``' joined parts."""
    out = []
    for m in _WORDISH.finditer(text.replace("’", "'")):
        tok = m.group()
        if "'" in tok:
            tok = tok.split("'")[0]
        if tok[:1].isupper() and any(c.islower() for c in tok) and any(c.isupper() for c in tok[1:]) \
                and tok.isalnum():
            out.append(tok.lower())
        else:
            out.extend(split_identifier(tok))
    return out


@lru_cache(maxsize=300_000)
def identifier_words(name: str) -> tuple[str, ...]:
    """An identifier's parts and each pair of adjacent parts joined: ``MySQLStore`` → my, sql, store,
    mysql, sqlstore — so a product name written whole in prose meets its split form in code."""
    parts = split_identifier(name)
    return tuple(parts + [a + b for a, b in zip(parts, parts[1:])])


def is_stopword(word: str) -> bool:
    return word.lower() in STOPWORDS


def key_terms(text: str) -> list[str]:
    """The content words of a sentence, in order, as normalised terms (no stopwords, no numbers,
    no one- or two-letter words unless they are known abbreviations)."""
    raw = [w for w in words_of(text)
           if not w.isdigit() and not is_stopword(w) and (len(w) > 2 or w in _ABBR_WORDS)]
    return list(dict.fromkeys(normalise(raw)))


def display_terms(text: str) -> list[str]:
    """The content words as written (lower-cased), for showing which words matched."""
    return list(dict.fromkeys(w for w in words_of(text)
                              if not w.isdigit() and not is_stopword(w) and (len(w) > 2 or w in _ABBR_WORDS)))
