#!/usr/bin/env python3
"""Builds each fuzz target's seed corpus, fuzz/corpus/<target>/, from the real-shaped fixtures
under tests/fixtures/, the example exports under content/, the test tables of the text modules,
and the hand-chosen seeds (and kept crash inputs) under fuzz/seeds/<target>/.

Run from the repository root (fuzz/run.sh does). Files already in a corpus stay: a corpus grows
from one run to the next; seeds are named by their content's hash, so re-seeding adds nothing twice.
"""
import glob
import hashlib
import os
import re
import sys

ROOT = os.getcwd()
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
CHUNK = 4096  # text targets get fixture text in pieces of this size

IMPORTERS = {
    "jira_xml": ["tests/fixtures/jira/*.xml", "tests/fixtures/census/jira-xml/*.xml",
                 "tests/fixtures/hostile/jira.xml", "content/exports/jira/*.xml"],
    "jira_json": ["tests/fixtures/jira-json/*.json", "tests/fixtures/census/jira-json/*.json",
                  "tests/fixtures/hostile/jira.json"],
    "bugzilla_xml": ["tests/fixtures/bugzilla/*.xml", "tests/fixtures/issuezilla/*.xml",
                     "tests/fixtures/census/bugzilla-xml/*.xml",
                     "tests/fixtures/hostile/bugzilla.xml", "content/exports/bugzilla/*.xml"],
    "bugzilla_json": ["tests/fixtures/bugzilla/*.json", "tests/fixtures/census/bugzilla-json/*.json",
                      "tests/fixtures/hostile/bugzilla.json"],
    "github_json": ["tests/fixtures/github/*.json", "tests/fixtures/github/*.jsonl",
                    "tests/fixtures/hostile/github.json"],
    "ndjson": ["tests/fixtures/hostile/neutral.ndjson"],
}
ALL_EXPORTS = sorted({p for pats in IMPORTERS.values() for p in pats})


def files(patterns):
    out = []
    for pat in patterns:
        out.extend(sorted(glob.glob(os.path.join(ROOT, pat))))
    return out


def put(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(d, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)


def literals(path):
    """The string literals of a module's tests: its test table is a seed set of its own."""
    src = open(os.path.join(ROOT, path), encoding="utf-8").read()
    tests = src[src.find("#[cfg(test)]"):] if "#[cfg(test)]" in src else ""
    out = []
    for m in re.finditer(r'r#"(.*?)"#|"((?:[^"\\]|\\.)*)"', tests, re.S):
        raw = m.group(1)
        if raw is None:
            raw = m.group(2).replace('\\n', '\n').replace('\\"', '"').replace('\\\\', '\\')
        if len(raw) >= 3:
            out.append(raw.encode("utf-8"))
    return out


def chunks(paths):
    for p in paths:
        data = open(p, "rb").read()
        for i in range(0, len(data), CHUNK):
            yield data[i:i + CHUNK]


def main():
    for target, pats in IMPORTERS.items():
        for p in files(pats):
            put(target, open(p, "rb").read())
    for p in files(ALL_EXPORTS):
        put("detect", open(p, "rb").read()[:8192])
    texts = list(chunks(files(ALL_EXPORTS + ["content/pages/*.md"])))
    wiki = literals("src/text/wiki.rs")
    html = literals("src/text/html.rs")
    email = literals("src/text/email.rs")
    # markup: the first byte chooses the renderer (0 tracker HTML, 1 plain text, 2 Markdown,
    # 3 JIRA wiki).
    for t in texts + html:
        for sel in range(3):
            put("markup", bytes([sel]) + t)
    for t in texts + wiki:
        put("markup", bytes([3]) + t)
    for t in texts + html:
        put("gfm", t)
    for t in email + texts:
        put("email", t)
    # Hand-chosen seeds and the inputs of crashes found and fixed.
    for d in sorted(glob.glob(os.path.join(ROOT, "fuzz", "seeds", "*"))):
        for p in sorted(glob.glob(os.path.join(d, "*"))):
            put(os.path.basename(d), open(p, "rb").read())
    for d in sorted(os.listdir(CORPUS)):
        print(f"seeded {d}: {len(os.listdir(os.path.join(CORPUS, d)))} files", file=sys.stderr)


if __name__ == "__main__":
    main()
